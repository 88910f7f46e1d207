-- DEPLOYMENT_FREQUENCY measurements: one per finished production deployment (DEPLOYED,
-- FAILED or ROLLED_BACK) finished by as_of, at its finished_at; numerator = 1 when it was
-- DEPLOYED, else 0 (it counts no deployment, but makes the tenant one whose every period
-- has a frequency: 0 is a value, NO_DATA is for a tenant with no finished production
-- deployment by as_of; a slice exists only with a deployment counted). Denominator null: the KPI's
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
        cast(case when status = 'DEPLOYED' then 1.0 else 0.0 end as {{ type_double() }})
            as numerator,
        cast(null as {{ type_double() }}) as denominator,
        service,
        environment
    from deployments
    where status in ('DEPLOYED', 'FAILED', 'ROLLED_BACK')
        and finished_at <= {{ as_of_timestamp() }}
)

select * from final
