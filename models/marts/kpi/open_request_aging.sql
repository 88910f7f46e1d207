-- What is open now: one row per request open at as_of, with how old it is, how long it
-- has been in its status and on hold, and where it stands against its SLA.
-- Open at as_of means what SR_BACKLOG counts at its current cutoff: created before as_of,
-- and the status in force just before as_of (the timeline's last change taking effect
-- before it; a change recorded before creation takes effect at creation) is neither DONE
-- nor CANCELLED. So a tenant's row count is its current backlog, and a change stamped
-- exactly at as_of counts from the next build on, as it does in the backlog.
-- A table rebuilt whole on every build (its size is the backlog), from the complete
-- request-level tables of the core (a windowed run replaces some of their rows, never
-- leaves them partial).
with

timeline as {{ not_materialized() }} (
    select * from {{ ref('int_service_requests__status_timeline') }}
    where created_at < {{ as_of_timestamp() }}
),

lifecycle as (
    select * from {{ ref('int_service_requests__lifecycle') }}
),

requests as (
    select * from {{ ref('int_service_requests__accepted') }}
),

sla_policies as (
    select * from {{ ref('int_tenants__sla_policies') }}
),

intervals as (
    select * from {{ ref('int_business_calendars__intervals') }}
),

effective_changes as {{ not_materialized() }} (
    -- when each status change and the next one take effect
    select
        sr_id,
        status_sequence,
        status,
        created_at,
        case when status_at > created_at then status_at else created_at end as effective_at,
        case
            when next_status_at is null then null
            when next_status_at > created_at then next_status_at
            else created_at
        end as next_effective_at
    from timeline
),

statuses_before_as_of as (
    -- the change in force just before as_of: the last one taking effect before it
    select
        sr_id,
        status,
        effective_at as status_since
    from effective_changes
    where effective_at < {{ as_of_timestamp() }}
        and (next_effective_at is null or next_effective_at >= {{ as_of_timestamp() }})

    union all

    -- a request whose first change takes effect at as_of: open since its creation
    -- (SR_BACKLOG counts it from its creation)
    select
        sr_id,
        'OPEN' as status,
        created_at as status_since
    from effective_changes
    where status_sequence = 1
        and effective_at >= {{ as_of_timestamp() }}
),

open_requests as (
    select * from statuses_before_as_of
    where status not in ('DONE', 'CANCELLED')
),

open_request_rows as (
    -- the open requests with their request-level rows, joined once (several steps read
    -- them: a small set, where the request tables are whole)
    select
        open_requests.sr_id,
        open_requests.status,
        open_requests.status_since,
        lifecycle.tenant_id,
        lifecycle.request_type,
        lifecycle.priority,
        lifecycle.team,
        lifecycle.service,
        requests.assignee_id,
        lifecycle.created_at,
        lifecycle.on_hold_hours,
        lifecycle.reopen_count
    from open_requests
    inner join lifecycle
        on open_requests.sr_id = lifecycle.sr_id
    inner join requests
        on open_requests.sr_id = requests.sr_id
),

open_policies as (
    -- the open requests that have an SLA policy
    select
        open_request_rows.sr_id,
        open_request_rows.created_at,
        open_request_rows.on_hold_hours,
        sla_policies.resolution_hours,
        sla_policies.pause_on_hold,
        sla_policies.calendar_name,
        sla_policies.timezone
    from open_request_rows
    inner join sla_policies
        on open_request_rows.tenant_id = sla_policies.tenant_id
        and open_request_rows.request_type = sla_policies.request_type
        and open_request_rows.priority = sla_policies.priority
),

calendar_spans as (
    -- on a business calendar: creation to as_of (span 0), and each stretch on hold up to
    -- as_of (its status_sequence) when the policy pauses on hold
    select
        sr_id,
        cast(0 as bigint) as span_sequence,
        calendar_name,
        timezone,
        created_at as span_start_at,
        {{ as_of_timestamp() }} as span_end_at
    from open_policies
    where calendar_name is not null

    union all

    select
        timeline.sr_id,
        timeline.status_sequence as span_sequence,
        open_policies.calendar_name,
        open_policies.timezone,
        case when timeline.status_at > timeline.created_at then timeline.status_at else timeline.created_at end
            as span_start_at,
        coalesce(timeline.next_status_at, {{ as_of_timestamp() }}) as span_end_at
    from timeline
    inner join open_policies
        on timeline.sr_id = open_policies.sr_id
    where timeline.status = 'ON_HOLD'
        and open_policies.calendar_name is not null
        and open_policies.pause_on_hold
        and coalesce(timeline.next_status_at, {{ as_of_timestamp() }})
            > case when timeline.status_at > timeline.created_at then timeline.status_at else timeline.created_at end
),

span_positions as (
    {{ business_span_positions('calendar_spans', 'intervals', ['sr_id', 'span_sequence']) }}
),

business_clocks as (
    -- the business clock at creation, the business seconds from creation to as_of
    -- (span 0) and those on hold (spans > 0)
    select
        sr_id,
        sum(case when span_sequence = 0 then start_position else 0.0 end) as created_position,
        sum(case when span_sequence = 0 then end_position - start_position else 0.0 end)
            as clock_seconds,
        sum(case when span_sequence > 0 then end_position - start_position else 0.0 end)
            as on_hold_seconds
    from span_positions
    group by sr_id
),

due_targets as (
    -- where the business clock reaches the policy's hours (pushed back by the business
    -- time on hold so far when the policy pauses)
    select
        open_policies.sr_id,
        open_policies.calendar_name,
        open_policies.timezone,
        business_clocks.created_position
            + open_policies.resolution_hours * 3600.0
            + business_clocks.on_hold_seconds as target_position
    from open_policies
    inner join business_clocks
        on open_policies.sr_id = business_clocks.sr_id
),

due_instants as (
    {{ business_instant('due_targets', 'intervals', ['sr_id']) }}
),

sla_deadlines as (
    -- the SLA clock. 24/7 (blank calendar): the policy's hours from creation, pushed back
    -- by the time on hold when the policy pauses on hold (up to as_of for a request on
    -- hold now). On a business calendar: the same in business time (README,
    -- Business-hours SLAs).
    select
        open_policies.sr_id,
        open_policies.resolution_hours as sla_resolution_hours,
        case
            when open_policies.calendar_name is null
                then {{ hours_between('open_policies.created_at', as_of_timestamp()) }}
                    - case when open_policies.pause_on_hold then open_policies.on_hold_hours else 0.0 end
            else (business_clocks.clock_seconds - business_clocks.on_hold_seconds) / 3600.0
        end as sla_elapsed_hours,
        case
            when open_policies.calendar_name is null
                then {{ hours_after(
                    'open_policies.created_at',
                    'open_policies.resolution_hours'
                    ~ ' + case when open_policies.pause_on_hold then open_policies.on_hold_hours else 0.0 end'
                ) }}
            else due_instants.business_instant_at
        end as sla_due_at
    from open_policies
    left join business_clocks
        on open_policies.sr_id = business_clocks.sr_id
    left join due_instants
        on open_policies.sr_id = due_instants.sr_id
),

final as (
    select
        -- keys
        open_request_rows.tenant_id,
        open_request_rows.sr_id,
        -- attributes
        open_request_rows.request_type,
        open_request_rows.priority,
        open_request_rows.team,
        open_request_rows.service,
        open_request_rows.assignee_id,
        cast(open_request_rows.status as {{ dbt.type_string() }}) as status,
        coalesce(sla_deadlines.sla_due_at < {{ as_of_timestamp() }}, false) as is_sla_breached,
        -- measures
        {{ hours_between('open_request_rows.created_at', as_of_timestamp()) }} as age_hours,
        {{ hours_between('open_request_rows.status_since', as_of_timestamp()) }} as hours_in_status,
        cast(open_request_rows.on_hold_hours as {{ type_double() }}) as on_hold_hours,
        cast(open_request_rows.reopen_count as bigint) as reopen_count,
        cast(sla_deadlines.sla_resolution_hours as {{ type_double() }}) as sla_resolution_hours,
        cast(sla_deadlines.sla_elapsed_hours as {{ type_double() }}) as sla_elapsed_hours,
        cast(
            sla_deadlines.sla_resolution_hours - sla_deadlines.sla_elapsed_hours as {{ type_double() }}
        ) as sla_remaining_hours,
        -- timestamps (UTC)
        open_request_rows.created_at,
        open_request_rows.status_since,
        cast(sla_deadlines.sla_due_at as timestamp) as sla_due_at,
        {{ as_of_timestamp() }} as as_of
    from open_request_rows
    left join sla_deadlines
        on open_request_rows.sr_id = sla_deadlines.sr_id
)

select * from final
