-- One row per request as of as_of: resolution, reopens, assignees and time on hold.
-- Incremental: a windowed run recomputes the changed requests and those on hold (their
-- time on hold grows with as_of) only (see reprocess_window_start); other runs rebuild
-- it whole.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_changed_requests(also='is_on_hold') }}",
    )
}}
-- depends_on: {{ ref('int_service_requests__changed') }}
with

requests as (
    select * from {{ ref('int_service_requests__accepted') }}
    where created_at <= {{ as_of_timestamp() }}
    {%- if reprocess_window_start() is not none %}
        and (
            sr_id in (select sr_id from {{ ref('int_service_requests__changed') }})
            -- on hold as of the last build (deleted by the pre-hook): recomputed
            or sr_id in (
                select sr_id from {{ ref('int_service_requests__status_timeline') }}
                where is_last_status and status = 'ON_HOLD'
            )
        )
    {%- endif %}
),

timeline as (
    select * from {{ ref('int_service_requests__status_timeline') }}
    {%- if reprocess_window_start() is not none %}
    where sr_id in (select sr_id from requests)
    {%- endif %}
),

assignment_events as (
    select * from {{ ref('int_sr_events__accepted') }}
    where event_type = 'ASSIGNMENT'
        and event_at <= {{ as_of_timestamp() }}
    {%- if reprocess_window_start() is not none %}
        and sr_id in (select sr_id from requests)
    {%- endif %}
),

last_status as (
    select
        sr_id,
        status as last_status,
        status_at as last_status_at
    from timeline
    where is_last_status
),

reopens as (
    select
        sr_id,
        count(*) as reopen_count
    from timeline
    where previous_status = 'DONE'
        and status not in ('DONE', 'CANCELLED')
    group by sr_id
),

assignees as (
    select
        sr_id,
        count(distinct new_assignee_id) as distinct_assignee_count
    from assignment_events
    group by sr_id
),

resolution as (
    select
        requests.sr_id,
        last_status.last_status = 'DONE' as is_resolved,
        case when last_status.last_status = 'DONE' then last_status.last_status_at end as resolved_at
    from requests
    left join last_status
        on requests.sr_id = last_status.sr_id
),

hold_spans as (
    -- each ON_HOLD stretch, clipped to [created_at, resolution time or as_of]
    select
        timeline.sr_id,
        case when timeline.status_at > timeline.created_at
            then timeline.status_at else timeline.created_at end as hold_start_at,
        case
            when coalesce(timeline.next_status_at, {{ as_of_timestamp() }})
                < coalesce(resolution.resolved_at, {{ as_of_timestamp() }})
                then coalesce(timeline.next_status_at, {{ as_of_timestamp() }})
            else coalesce(resolution.resolved_at, {{ as_of_timestamp() }})
        end as hold_end_at
    from timeline
    inner join resolution
        on timeline.sr_id = resolution.sr_id
    where timeline.status = 'ON_HOLD'
),

holds as (
    select
        sr_id,
        sum(
            {{ exact_decimal(
                "case when hold_end_at > hold_start_at then "
                ~ hours_between('hold_start_at', 'hold_end_at') ~ " else 0.0 end"
            ) }}
        ) as on_hold_hours
    from hold_spans
    group by sr_id
),

final as (
    select
        -- keys
        requests.sr_id,
        requests.tenant_id,
        -- attributes
        requests.request_type,
        requests.priority,
        coalesce(resolution.is_resolved, false) as is_resolved,
        coalesce(last_status.last_status = 'ON_HOLD', false) as is_on_hold,
        -- measures
        cast(coalesce(reopens.reopen_count, 0) as bigint) as reopen_count,
        cast(
            case
                when assignees.distinct_assignee_count > 0 then assignees.distinct_assignee_count
                when requests.assignee_id is not null then 1
                else 0
            end as bigint
        ) as assignee_count,
        cast(coalesce(holds.on_hold_hours, 0.0) as double precision) as on_hold_hours,
        case
            when resolution.is_resolved
                then {{ hours_between('requests.created_at', 'resolution.resolved_at') }}
        end as resolution_hours,
        -- timestamps (UTC)
        requests.created_at,
        resolution.resolved_at
    from requests
    left join resolution
        on requests.sr_id = resolution.sr_id
    left join last_status
        on requests.sr_id = last_status.sr_id
    left join reopens
        on requests.sr_id = reopens.sr_id
    left join assignees
        on requests.sr_id = assignees.sr_id
    left join holds
        on requests.sr_id = holds.sr_id
)

select * from final
