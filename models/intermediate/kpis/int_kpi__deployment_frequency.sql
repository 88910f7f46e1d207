-- DEPLOYMENT_FREQUENCY measurements: one per production deployment with status DEPLOYED
-- finished by as_of, at its finished_at; numerator = 1, denominator null: the KPI's
-- denominator is not a count of measurements but the local days of the period that start
-- before as_of (kpi_definitions.denominator_basis = ELAPSED_DAYS, macro kpi_period_values),
-- so value = 7 x deployments / days. With the deployment's service and environment.
with

deployments as (
    select * from {{ ref('int_deployments__production') }}
    where is_production
),

final as (
    select
        'deployment-' || cast(deployment_id as {{ dbt.type_string() }}) as measurement_key,
        deployment_id,
        tenant_id,
        cast('DEPLOYMENT_FREQUENCY' as {{ dbt.type_string() }}) as kpi_name,
        finished_at as measured_at,
        cast(1.0 as double precision) as numerator,
        cast(null as double precision) as denominator,
        service,
        environment
    from deployments
    where status = 'DEPLOYED'
        and finished_at <= {{ as_of_timestamp() }}
)

select * from final
