-- DEPLOYMENT_REWORK_RATE measurements: one per production deployment with status DEPLOYED
-- finished by as_of, at its finished_at; numerator = 1 when its fixes_sr_id names an
-- incident of the same tenant (a deployment made to remediate an incident), denominator = 1.
with

deployments as (
    select * from {{ ref('int_deployments__production') }}
    where is_production
),

incidents as (
    select sr_id, tenant_id
    from {{ ref('int_service_requests__accepted') }}
    where request_type = 'INCIDENT'
),

final as (
    select
        'deployment-' || cast(deployments.deployment_id as {{ dbt.type_string() }}) as measurement_key,
        deployments.deployment_id,
        deployments.tenant_id,
        cast('DEPLOYMENT_REWORK_RATE' as {{ dbt.type_string() }}) as kpi_name,
        deployments.finished_at as measured_at,
        cast(case when incidents.sr_id is not null then 1.0 else 0.0 end as {{ type_double() }})
            as numerator,
        cast(1.0 as {{ type_double() }}) as denominator,
        deployments.service,
        deployments.environment
    from deployments
    left join incidents
        on deployments.fixes_sr_id = incidents.sr_id
        and deployments.tenant_id = incidents.tenant_id
    where deployments.status = 'DEPLOYED'
        and deployments.finished_at <= {{ as_of_timestamp() }}
)

select * from final
