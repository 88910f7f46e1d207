-- MTTR measurements: one per incident resolved (as of as_of), measured at its resolution,
-- numerator = hours from creation to resolution, denominator = 1; the same for each KPI
-- built on them: MTTR (RATIO: the mean), MTTR_MEDIAN and MTTR_P90 (PERCENTILE).
with

lifecycle as (
    select * from {{ ref('int_service_requests__lifecycle') }}
),

resolved_incidents as (
    select
        sr_id,
        tenant_id,
        resolved_at,
        resolution_hours
    from lifecycle
    where is_resolved
        and request_type = 'INCIDENT'
),

mttr_kpis as (
    select cast('MTTR' as {{ dbt.type_string() }}) as kpi_name
    union all
    select cast('MTTR_MEDIAN' as {{ dbt.type_string() }}) as kpi_name
    union all
    select cast('MTTR_P90' as {{ dbt.type_string() }}) as kpi_name
),

final as (
    select
        'sr-' || cast(resolved_incidents.sr_id as {{ dbt.type_string() }}) as measurement_key,
        resolved_incidents.sr_id,
        resolved_incidents.tenant_id,
        mttr_kpis.kpi_name,
        resolved_incidents.resolved_at as measured_at,
        cast(resolved_incidents.resolution_hours as {{ type_double() }}) as numerator,
        cast(1.0 as {{ type_double() }}) as denominator
    from resolved_incidents
    cross join mttr_kpis
)

select * from final
