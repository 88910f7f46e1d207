-- MTTR measurements: one per incident resolved (as of as_of), measured at its resolution.
-- numerator = hours from creation to resolution, denominator = 1.
with

lifecycle as (
    select * from {{ ref('int_service_requests__lifecycle') }}
),

final as (
    select
        'sr-' || cast(sr_id as {{ dbt.type_string() }}) as measurement_key,
        sr_id,
        tenant_id,
        cast('MTTR' as {{ dbt.type_string() }}) as kpi_name,
        resolved_at as measured_at,
        cast(resolution_hours as double precision) as numerator,
        cast(1.0 as double precision) as denominator
    from lifecycle
    where is_resolved
        and request_type = 'INCIDENT'
)

select * from final
