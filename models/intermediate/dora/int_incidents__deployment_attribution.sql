-- One row per incident created by as_of that names a deployment (caused_by_deployment_id)
-- or that the attribution window attributes to one, with the production deployment that
-- caused it (README, DORA):
--   EXPLICIT      its caused_by_deployment_id is a production deployment of its tenant
--   NOT_PRODUCTION its link names another tenant's or a non-production deployment: it
--                 stands as written, no production deployment caused it (not re-attributed)
--   NOT_FOUND     its link names no accepted deployment (flagged in marts.flagged_raw_rows)
--   WINDOW        no link, and var incident_attribution_window_hours is set: the production
--                 deployment of its tenant and service (trimmed, case kept) with status
--                 DEPLOYED whose finished_at is the latest at or before its created_at and
--                 at most that many hours before it (ties: the highest deployment_id)
-- The window's "latest at or before" is a running count over incidents and deployments in
-- time order per tenant and service (no range join, the same SQL on both engines).
{%- set window_hours = incident_attribution_window_hours() %}
with

incidents as (
    select * from {{ ref('int_service_requests__accepted') }}
    where request_type = 'INCIDENT'
        and created_at <= {{ as_of_timestamp() }}
),

deployments as (
    select * from {{ ref('int_deployments__production') }}
),

linked as (
    select
        incidents.sr_id,
        incidents.tenant_id,
        incidents.service,
        incidents.created_at,
        incidents.caused_by_deployment_id,
        case
            when deployments.deployment_id is null then 'NOT_FOUND'
            when deployments.tenant_id = incidents.tenant_id and deployments.is_production
                then 'EXPLICIT'
            else 'NOT_PRODUCTION'
        end as attribution,
        case
            when deployments.tenant_id = incidents.tenant_id and deployments.is_production
                then deployments.deployment_id
        end as deployment_id
    from incidents
    left join deployments
        on incidents.caused_by_deployment_id = deployments.deployment_id
    where incidents.caused_by_deployment_id is not null
),
{%- if window_hours is not none %}

window_events as (
    -- incidents without a link and the candidate deployments, per tenant and service in
    -- time order: a deployment before an incident at the same instant, deployments by id
    select
        tenant_id,
        trim(service) as service_key,
        created_at as event_at,
        1 as event_order,
        sr_id,
        cast(null as bigint) as deployment_id
    from incidents
    where caused_by_deployment_id is null
        and nullif(trim(service), '') is not null
    union all
    select
        tenant_id,
        trim(service) as service_key,
        finished_at as event_at,
        0 as event_order,
        cast(null as bigint) as sr_id,
        deployment_id
    from deployments
    where is_production
        and status = 'DEPLOYED'
        and finished_at <= {{ as_of_timestamp() }}
        and nullif(trim(service), '') is not null
),

numbered_events as (
    -- deployments_so_far: how many candidate deployments come at or before each event
    select
        window_events.*,
        sum(case when deployment_id is not null then 1 else 0 end) over (
            partition by tenant_id, service_key
            order by event_at, event_order, deployment_id
            rows between unbounded preceding and current row
        ) as deployments_so_far
    from window_events
),

latest_deployments as (
    -- each incident with the last candidate deployment before it
    select
        incident_events.sr_id,
        deployment_events.deployment_id,
        deployment_events.event_at as finished_at
    from numbered_events as incident_events
    inner join numbered_events as deployment_events
        on incident_events.tenant_id = deployment_events.tenant_id
        and incident_events.service_key = deployment_events.service_key
        and incident_events.deployments_so_far = deployment_events.deployments_so_far
    where incident_events.sr_id is not null
        and deployment_events.deployment_id is not null
),

windowed as (
    select
        incidents.sr_id,
        incidents.tenant_id,
        incidents.service,
        incidents.created_at,
        incidents.caused_by_deployment_id,
        'WINDOW' as attribution,
        latest_deployments.deployment_id
    from incidents
    inner join latest_deployments
        on incidents.sr_id = latest_deployments.sr_id
    where latest_deployments.finished_at
        >= {{ dbt.dateadd('hour', -window_hours, 'incidents.created_at') }}
),
{%- endif %}

attributed as (
    select * from linked
    {%- if window_hours is not none %}
    union all
    select * from windowed
    {%- endif %}
),

final as (
    select
        -- keys
        cast(sr_id as bigint) as sr_id,
        cast(tenant_id as bigint) as tenant_id,
        cast(deployment_id as bigint) as deployment_id,
        cast(caused_by_deployment_id as bigint) as caused_by_deployment_id,
        -- attributes
        cast(attribution as {{ dbt.type_string() }}) as attribution,
        service,
        -- timestamps (UTC)
        created_at
    from attributed
)

select * from final
