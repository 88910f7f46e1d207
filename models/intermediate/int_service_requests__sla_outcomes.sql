-- Resolved requests that have an SLA policy, and whether they met it. The policy is the
-- one in force for the request's tenant, type and priority (int_tenants__sla_policies: a
-- tenant's own policy beats the default one).
-- The SLA clock: on a 24/7 policy (blank calendar), the hours from creation to resolution,
-- less the hours on hold when the policy pauses on hold. On a business calendar, the same
-- in business time (README, Business-hours SLAs): each span's business seconds are the
-- difference of the business clock's positions at its ends (macros/business_hours), the
-- spans being creation to resolution and, when the policy pauses, each stretch on hold
-- (from the status timeline, starting no earlier than the creation).
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

lifecycle as {{ not_materialized() }} (
    select * from {{ ref('int_service_requests__lifecycle') }}
    where is_resolved
    {%- if reprocess_window_start() is not none %}
        and sr_id in (select sr_id from {{ ref('int_service_requests__changed') }})
    {%- endif %}
),

policies as (
    select * from {{ ref('int_tenants__sla_policies') }}
),

intervals as (
    select * from {{ ref('int_business_calendars__intervals') }}
),

holds as (
    select * from {{ ref('int_service_requests__status_timeline') }}
    where status = 'ON_HOLD'
        and sr_id in (select sr_id from lifecycle)
),

policed as (
    select
        lifecycle.sr_id,
        lifecycle.created_at,
        lifecycle.resolved_at,
        policies.pause_on_hold,
        policies.calendar_name,
        policies.timezone
    from lifecycle
    inner join policies
        on lifecycle.tenant_id = policies.tenant_id
        and lifecycle.request_type = policies.request_type
        and lifecycle.priority = policies.priority
    where policies.calendar_name is not null
),

calendar_spans as (
    -- the spans measured on a business calendar: creation to resolution (span 0), and
    -- each stretch on hold (its status_sequence) when the policy pauses on hold
    select
        sr_id,
        cast(0 as bigint) as span_sequence,
        calendar_name,
        timezone,
        created_at as span_start_at,
        resolved_at as span_end_at
    from policed

    union all

    select
        holds.sr_id,
        holds.status_sequence as span_sequence,
        policed.calendar_name,
        policed.timezone,
        case when holds.status_at > holds.created_at then holds.status_at else holds.created_at end
            as span_start_at,
        holds.next_status_at as span_end_at
    from holds
    inner join policed
        on holds.sr_id = policed.sr_id
    where policed.pause_on_hold
        and holds.next_status_at
            > case when holds.status_at > holds.created_at then holds.status_at else holds.created_at end
),

span_positions as (
    {{ business_span_positions('calendar_spans', 'intervals', ['sr_id', 'span_sequence']) }}
),

business_clocks as (
    -- business seconds from creation to resolution (span 0), less those on hold (spans > 0)
    select
        sr_id,
        sum(
            case when span_sequence = 0 then 1.0 else -1.0 end * (end_position - start_position)
        ) as sla_elapsed_seconds
    from span_positions
    group by sr_id
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
        policies.calendar_name,
        case
            when policies.calendar_name is null
                then lifecycle.resolution_hours
                    - case when policies.pause_on_hold then lifecycle.on_hold_hours else 0.0 end
            else business_clocks.sla_elapsed_seconds / 3600.0
        end as sla_elapsed_hours,
        lifecycle.resolved_at
    from lifecycle
    inner join policies
        on lifecycle.tenant_id = policies.tenant_id
        and lifecycle.request_type = policies.request_type
        and lifecycle.priority = policies.priority
    left join business_clocks
        on lifecycle.sr_id = business_clocks.sr_id
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
        cast(calendar_name as {{ dbt.type_string() }}) as calendar_name,
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
