-- Every accepted deployment with whether it is a production deployment: its environment,
-- trimmed and lower-cased, matched against seeds/deployment_environments (the tenant's
-- own row beats the blank-tenant row; an environment with no row is not production).
-- Only production deployments count in the DORA KPIs.
with

deployments as (
    select * from {{ ref('int_deployments__accepted') }}
),

environments as (
    select
        tenant_id,
        lower(trim(environment)) as environment_key,
        is_production
    from {{ ref('deployment_environments') }}
),

tenant_environments as (
    select * from environments
    where tenant_id is not null
),

default_environments as (
    select * from environments
    where tenant_id is null
),

final as (
    select
        -- keys
        deployments.deployment_id,
        deployments.tenant_id,
        deployments.fixes_sr_id,
        -- attributes
        deployments.service,
        deployments.environment,
        deployments.status,
        coalesce(
            tenant_environments.is_production,
            default_environments.is_production,
            false
        ) as is_production,
        -- timestamps (UTC)
        deployments.started_at,
        deployments.finished_at,
        deployments.commit_at
    from deployments
    left join tenant_environments
        on deployments.tenant_id = tenant_environments.tenant_id
        and lower(trim(deployments.environment)) = tenant_environments.environment_key
    left join default_environments
        on lower(trim(deployments.environment)) = default_environments.environment_key
)

select * from final
