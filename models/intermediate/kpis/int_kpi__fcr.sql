-- FCR measurements: one per request resolved (as of as_of), measured at its resolution.
-- numerator = 1 when never reopened and handled by at most one assignee.
with

lifecycle as (
    select * from {{ ref('int_service_requests__lifecycle') }}
),

final as (
    select
        'sr-' || cast(sr_id as {{ dbt.type_string() }}) as measurement_key,
        sr_id,
        tenant_id,
        cast('FCR' as {{ dbt.type_string() }}) as kpi_name,
        resolved_at as measured_at,
        cast(case when reopen_count = 0 and assignee_count <= 1 then 1.0 else 0.0 end
            as {{ type_double() }}) as numerator,
        cast(1.0 as {{ type_double() }}) as denominator
    from lifecycle
    where is_resolved
)

select * from final
