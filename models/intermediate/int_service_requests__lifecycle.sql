-- One row per request as of as_of: resolution, reopens, assignees and time on hold.
-- Incremental: a windowed run recomputes the changed requests and those on hold (their
-- time on hold grows with as_of) only (see reprocess_window_start); other runs rebuild
-- it whole.
{{
    config(
        materialized='incremental',
        incremental_strategy='replace',
        on_schema_change='sync_all_columns',
        meta={'replace_scope': 'reprocessed_requests', 'replace_also': 'is_on_hold'},
    )
}}
-- depends_on: {{ ref('int_service_requests__changed') }}
with

{%- if reprocess_window_start() is not none %}

reprocessed as (
    -- one set, read by one semi-join: PostgreSQL evaluates `in (a) or in (b)` row by row
    -- when b (the requests on hold, 10M benchmark) does not fit in work_mem
    select sr_id from {{ ref('int_service_requests__changed') }}
    union
    -- on hold as of the last build (deleted by the pre-hook): recomputed
    select sr_id from {{ ref('int_service_requests__status_timeline') }}
    where is_last_status and status = 'ON_HOLD'
),
{%- endif %}

requests as (
    select * from {{ ref('int_service_requests__accepted') }}
    where created_at <= {{ as_of_timestamp() }}
    {%- if reprocess_window_start() is not none %}
        and sr_id in (select sr_id from reprocessed)
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

histories as (
    -- one pass over each request's timeline: its last status, reopens and time on hold.
    -- A stretch on hold ends at the next status change, or at as_of while still on hold;
    -- it starts no earlier than the creation. (No clipping at the resolution is needed:
    -- a resolved request's last status is DONE, so each stretch on hold has a next
    -- change no later than the resolution.)
    select
        sr_id,
        max(case when is_last_status then status end) as last_status,
        max(case when is_last_status then status_at end) as last_status_at,
        count(
            case when previous_status = 'DONE' and status not in ('DONE', 'CANCELLED') then 1 end
        ) as reopen_count,
        sum(
            case when status = 'ON_HOLD' then {{ exact_decimal(
                "case when coalesce(next_status_at, " ~ as_of_timestamp() ~ ")"
                ~ " > case when status_at > created_at then status_at else created_at end then "
                ~ hours_between(
                    'case when status_at > created_at then status_at else created_at end',
                    'coalesce(next_status_at, ' ~ as_of_timestamp() ~ ')'
                )
                ~ " else 0.0 end"
            ) }} end
        ) as on_hold_hours
    from timeline
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
        sr_id,
        last_status,
        reopen_count,
        on_hold_hours,
        last_status = 'DONE' as is_resolved,
        case when last_status = 'DONE' then last_status_at end as resolved_at
    from histories
),

final as (
    select
        -- keys
        requests.sr_id,
        requests.tenant_id,
        -- attributes
        requests.request_type,
        requests.priority,
        requests.team,
        requests.service,
        coalesce(resolution.is_resolved, false) as is_resolved,
        coalesce(resolution.last_status = 'ON_HOLD', false) as is_on_hold,
        -- measures
        cast(coalesce(resolution.reopen_count, 0) as bigint) as reopen_count,
        cast(
            case
                when assignees.distinct_assignee_count > 0 then assignees.distinct_assignee_count
                when requests.assignee_id is not null then 1
                else 0
            end as bigint
        ) as assignee_count,
        cast(coalesce(resolution.on_hold_hours, 0.0) as {{ type_double() }}) as on_hold_hours,
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
    left join assignees
        on requests.sr_id = assignees.sr_id
)

select * from final
