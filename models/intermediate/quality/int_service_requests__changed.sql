-- The requests a windowed run reprocesses (README, "Incremental runs"): those with a raw
-- row created, updated or resolved, or a raw event, at or after the window's start
-- (min_date moved back by lookback_days). Empty on a run without window, which rebuilds
-- every incremental intermediate model whole.
{%- set has_window = (var('min_date', '') or env_setting('KPI_MIN_DATE')) | string | trim != '' %}
with

requests as (
    select * from {{ ref('stg_itsm__service_requests') }}
),

events as (
    select * from {{ ref('stg_itsm__sr_events') }}
),

changed_rows as (
    select sr_id
    from requests
    {%- if has_window %}
    where created_at >= {{ window_bound('min_date') }}
        or updated_at >= {{ window_bound('min_date') }}
        or resolved_at >= {{ window_bound('min_date') }}
    {%- else %}
    where 1 = 0
    {%- endif %}
),

changed_events as (
    select sr_id
    from events
    {%- if has_window %}
    where event_at >= {{ window_bound('min_date') }}
    {%- else %}
    where 1 = 0
    {%- endif %}
),

final as (
    select sr_id from changed_rows
    where sr_id is not null
    union
    select sr_id from changed_events
    where sr_id is not null
)

select * from final
