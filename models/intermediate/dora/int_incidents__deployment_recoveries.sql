-- One row per incident resolved by as_of (resolution as for MTTR: int_service_requests__
-- lifecycle) that a production deployment caused (int_incidents__deployment_attribution),
-- with the hours from the deployment's finished_at to the resolution. A negative duration
-- (resolved before the deployment finished) is kept here: FAILED_DEPLOYMENT_RECOVERY_TIME
-- leaves it out and marts.flagged_raw_rows flags it.
with

attributions as (
    select * from {{ ref('int_incidents__deployment_attribution') }}
    where deployment_id is not null
),

lifecycle as (
    select * from {{ ref('int_service_requests__lifecycle') }}
    where is_resolved
        and request_type = 'INCIDENT'
),

deployments as (
    select * from {{ ref('int_deployments__production') }}
),

final as (
    select
        -- keys
        attributions.sr_id,
        attributions.tenant_id,
        attributions.deployment_id,
        attributions.attribution,
        -- the causing deployment's dimensions (breakdowns)
        deployments.service,
        deployments.environment,
        -- measures
        {{ hours_between('deployments.finished_at', 'lifecycle.resolved_at') }} as recovery_hours,
        -- timestamps (UTC)
        lifecycle.resolved_at,
        deployments.finished_at as deployment_finished_at
    from attributions
    inner join lifecycle
        on attributions.sr_id = lifecycle.sr_id
    inner join deployments
        on attributions.deployment_id = deployments.deployment_id
    where deployments.finished_at is not null
)

select * from final
