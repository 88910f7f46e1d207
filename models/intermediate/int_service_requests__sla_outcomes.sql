-- Resolved requests that have an SLA policy, and whether they met it. A tenant's own
-- policy beats the default (blank-tenant) policy for the same type and priority.
-- Incremental: a windowed run re-evaluates the changed requests only (see
-- reprocess_window_start); other runs rebuild it whole.
{{
    config(
        materialized='incremental',
        incremental_strategy='replace',
        on_schema_change='sync_all_columns',
        meta={'replace_scope': 'reprocessed_requests'},
    )
}}
-- depends_on: {{ ref('int_service_requests__changed') }}
with

lifecycle as (
    select * from {{ ref('int_service_requests__lifecycle') }}
    where is_resolved
    {%- if reprocess_window_start() is not none %}
        and sr_id in (select sr_id from {{ ref('int_service_requests__changed') }})
    {%- endif %}
),

policies as (
    select * from {{ ref('sla_policies') }}
),

matched_policies as (
    select
        lifecycle.sr_id,
        policies.resolution_hours as policy_resolution_hours,
        policies.pause_on_hold,
        row_number() over (
            partition by lifecycle.sr_id
            order by case when policies.tenant_id is null then 1 else 0 end
        ) as policy_rank
    from lifecycle
    inner join policies
        on lifecycle.request_type = policies.request_type
        and lifecycle.priority = policies.priority
        and (policies.tenant_id = lifecycle.tenant_id or policies.tenant_id is null)
),

evaluated as (
    select
        lifecycle.sr_id,
        lifecycle.tenant_id,
        lifecycle.request_type,
        lifecycle.priority,
        matched_policies.policy_resolution_hours,
        matched_policies.pause_on_hold,
        lifecycle.resolution_hours,
        lifecycle.on_hold_hours,
        lifecycle.resolution_hours
            - case when matched_policies.pause_on_hold then lifecycle.on_hold_hours else 0.0 end
            as sla_elapsed_hours,
        lifecycle.resolved_at
    from lifecycle
    inner join matched_policies
        on lifecycle.sr_id = matched_policies.sr_id
        and matched_policies.policy_rank = 1
),

final as (
    select
        -- keys
        sr_id,
        tenant_id,
        -- attributes
        request_type,
        priority,
        pause_on_hold,
        -- compared in whole microseconds (the timestamps' resolution): the hours are
        -- doubles, and an elapsed time exactly at the limit, less two or more holds,
        -- can come out a few 1e-13 h over it
        round((sla_elapsed_hours - policy_resolution_hours) * 3600000000.0) <= 0 as is_compliant,
        -- measures
        cast(policy_resolution_hours as double precision) as policy_resolution_hours,
        cast(resolution_hours as double precision) as resolution_hours,
        cast(on_hold_hours as double precision) as on_hold_hours,
        cast(sla_elapsed_hours as double precision) as sla_elapsed_hours,
        -- timestamps (UTC)
        resolved_at
    from evaluated
)

select * from final
