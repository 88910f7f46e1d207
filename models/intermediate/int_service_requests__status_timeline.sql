-- The status timeline of every request as of as_of: its STATUS events, or, for a request
-- with none, a timeline made from its row (OPEN at created_at, then DONE at resolved_at or
-- CANCELLED at updated_at). Ordered by time, then event id.
-- Incremental: a windowed run recomputes the changed requests' timelines only (see
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

requests as (
    select * from {{ ref('int_service_requests__accepted') }}
    where created_at <= {{ as_of_timestamp() }}
    {%- if reprocess_window_start() is not none %}
        and sr_id in (select sr_id from {{ ref('int_service_requests__changed') }})
    {%- endif %}
),

status_events as (
    select
        events.sr_id,
        events.event_id,
        events.new_status as status,
        events.event_at as status_at
    from {{ ref('int_sr_events__accepted') }} as events
    inner join requests
        on events.sr_id = requests.sr_id
    where events.event_type = 'STATUS'
        and events.new_status is not null
        and events.event_at <= {{ as_of_timestamp() }}
),

requests_without_history as (
    select requests.*
    from requests
    where not exists (
        select 1 from status_events
        where status_events.sr_id = requests.sr_id
    )
),

derived_events as (
    select
        sr_id,
        cast(null as bigint) as event_id,
        'OPEN' as status,
        created_at as status_at,
        0 as derived_order
    from requests_without_history

    union all

    select
        sr_id,
        cast(null as bigint) as event_id,
        'DONE' as status,
        resolved_at as status_at,
        1 as derived_order
    from requests_without_history
    where status = 'DONE'
        and resolved_at is not null
        and resolved_at <= {{ as_of_timestamp() }}

    union all

    select
        sr_id,
        cast(null as bigint) as event_id,
        'CANCELLED' as status,
        updated_at as status_at,
        1 as derived_order
    from requests_without_history
    where status = 'CANCELLED'
        and updated_at is not null
        and updated_at <= {{ as_of_timestamp() }}
),

all_changes as (
    select sr_id, event_id, status, status_at, false as is_derived, 0 as derived_order
    from status_events

    union all

    select sr_id, event_id, status, status_at, true as is_derived, derived_order
    from derived_events
),

sequenced as (
    -- one ordering (time, then derived order, then event id: a total order) for every
    -- window function, so the engines sort the history once
    select
        all_changes.*,
        row_number() over by_time as status_sequence,
        lag(all_changes.status) over by_time as previous_status,
        lead(all_changes.status_at) over by_time as next_status_at,
        lead(1) over by_time is null as is_last_status
    from all_changes
    window by_time as (
        partition by all_changes.sr_id
        order by all_changes.status_at, all_changes.derived_order, all_changes.event_id
    )
),

final as (
    select
        -- keys
        sequenced.sr_id,
        cast(sequenced.status_sequence as bigint) as status_sequence,
        requests.tenant_id,
        sequenced.event_id,
        -- attributes
        cast(sequenced.status as {{ dbt.type_string() }}) as status,
        cast(sequenced.previous_status as {{ dbt.type_string() }}) as previous_status,
        sequenced.is_derived,
        sequenced.is_last_status,
        -- timestamps (UTC)
        sequenced.status_at,
        sequenced.next_status_at,
        requests.created_at
    from sequenced
    inner join requests
        on sequenced.sr_id = requests.sr_id
)

select * from final
