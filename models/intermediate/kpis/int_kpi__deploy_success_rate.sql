-- DEPLOY_SUCCESS_RATE measurements: one per finished deployment (DEPLOYED, FAILED or
-- ROLLED_BACK, finished by as_of), measured at finished_at; numerator = 1 when DEPLOYED.
-- Running and cancelled deployments are not counted. Each carries the deployment's id,
-- service and environment (the breakdowns of deployment KPIs).
with

deployments as (
    select * from {{ ref('int_deployments__accepted') }}
),

final as (
    select
        'deployment-' || cast(deployment_id as {{ dbt.type_string() }}) as measurement_key,
        deployment_id,
        tenant_id,
        cast('DEPLOY_SUCCESS_RATE' as {{ dbt.type_string() }}) as kpi_name,
        finished_at as measured_at,
        cast(case when status = 'DEPLOYED' then 1.0 else 0.0 end as {{ type_double() }}) as numerator,
        cast(1.0 as {{ type_double() }}) as denominator,
        service,
        environment
    from deployments
    where status in ('DEPLOYED', 'FAILED', 'ROLLED_BACK')
        and finished_at is not null
        and finished_at <= {{ as_of_timestamp() }}
        and started_at <= {{ as_of_timestamp() }}
)

select * from final
