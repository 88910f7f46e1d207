-- Resolved requests that have an SLA policy, and whether they met it. The policy is the
-- one in force for the request's tenant, type and priority (int_tenants__sla_policies: a
-- tenant's own policy beats the default one).
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
    select * from {{ ref('int_tenants__sla_policies') }}
),

evaluated as (
    select
        lifecycle.sr_id,
        lifecycle.tenant_id,
        lifecycle.request_type,
        lifecycle.priority,
        policies.resolution_hours as policy_resolution_hours,
        policies.pause_on_hold,
        lifecycle.resolution_hours,
        lifecycle.on_hold_hours,
        lifecycle.resolution_hours
            - case when policies.pause_on_hold then lifecycle.on_hold_hours else 0.0 end
            as sla_elapsed_hours,
        lifecycle.resolved_at
    from lifecycle
    inner join policies
        on lifecycle.tenant_id = policies.tenant_id
        and lifecycle.request_type = policies.request_type
        and lifecycle.priority = policies.priority
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
        cast(policy_resolution_hours as {{ type_double() }}) as policy_resolution_hours,
        cast(resolution_hours as {{ type_double() }}) as resolution_hours,
        cast(on_hold_hours as {{ type_double() }}) as on_hold_hours,
        cast(sla_elapsed_hours as {{ type_double() }}) as sla_elapsed_hours,
        -- timestamps (UTC)
        resolved_at
    from evaluated
)

select * from final
