-- FAILED_DEPLOYMENT_RECOVERY_TIME measurements: one per incident resolved by as_of that a
-- production deployment caused (int_incidents__deployment_recoveries), at its resolution;
-- numerator = hours from the deployment's finished_at to the resolution, denominator = 1
-- (a PERCENTILE KPI: the period's median). A negative duration is left out (and flagged in
-- marts.flagged_raw_rows, NEGATIVE_RECOVERY_TIME). The measurement is the incident's
-- (measurement_key sr-<id>) but carries the causing deployment's id, service and
-- environment: it is recomputed with the deployments' measurements on every run.
with

recoveries as (
    select * from {{ ref('int_incidents__deployment_recoveries') }}
),

final as (
    select
        'sr-' || cast(sr_id as {{ dbt.type_string() }}) as measurement_key,
        deployment_id,
        tenant_id,
        cast('FAILED_DEPLOYMENT_RECOVERY_TIME' as {{ dbt.type_string() }}) as kpi_name,
        resolved_at as measured_at,
        cast(recovery_hours as {{ type_double() }}) as numerator,
        cast(1.0 as {{ type_double() }}) as denominator,
        service,
        environment
    from recoveries
    where recovery_hours >= 0
        and resolved_at <= {{ as_of_timestamp() }}
)

select * from final
