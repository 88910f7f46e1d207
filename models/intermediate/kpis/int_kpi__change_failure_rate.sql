-- CHANGE_FAILURE_RATE measurements: one per production deployment with status DEPLOYED or
-- ROLLED_BACK finished by as_of, at its finished_at; numerator = 1 when it was rolled back
-- or caused at least one incident created by as_of (int_incidents__deployment_attribution:
-- explicit links, and the window when set), counted once however many incidents it
-- caused; denominator = 1.
with

deployments as (
    select * from {{ ref('int_deployments__production') }}
    where is_production
),

failed_deployments as (
    -- one row per deployment that caused an incident
    select distinct deployment_id
    from {{ ref('int_incidents__deployment_attribution') }}
    where deployment_id is not null
),

final as (
    select
        'deployment-' || cast(deployments.deployment_id as {{ dbt.type_string() }}) as measurement_key,
        deployments.deployment_id,
        deployments.tenant_id,
        cast('CHANGE_FAILURE_RATE' as {{ dbt.type_string() }}) as kpi_name,
        deployments.finished_at as measured_at,
        cast(case
            when deployments.status = 'ROLLED_BACK' or failed_deployments.deployment_id is not null
                then 1.0
            else 0.0
        end as {{ type_double() }}) as numerator,
        cast(1.0 as {{ type_double() }}) as denominator,
        deployments.service,
        deployments.environment
    from deployments
    left join failed_deployments
        on deployments.deployment_id = failed_deployments.deployment_id
    where deployments.status in ('DEPLOYED', 'ROLLED_BACK')
        and deployments.finished_at <= {{ as_of_timestamp() }}
)

select * from final
