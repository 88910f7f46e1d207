-- Every raw request event with the first rule it breaks (null when accepted). Rules in
-- order: the key, the request key, the tenant, values that do not parse, the event type,
-- its status or assignee, its time; then the request it belongs to (accepted, same
-- tenant, created before the event); then, among the rows passing them, one row per
-- event_id (the smallest raw text: duplicates of an event are copies); the others are
-- DUPLICATE_KEY.
-- Incremental: a windowed run revalidates only the events of the changed requests and
-- those without a request key (see reprocess_window_start); other runs rebuild it whole.
{{
    config(
        materialized='incremental',
        incremental_strategy='replace',
        on_schema_change='sync_all_columns',
        meta={'replace_scope': 'reprocessed_requests', 'replace_also': 'sr_id is null'},
    )
}}
-- depends_on: {{ ref('int_service_requests__changed') }}
{%- set raw_columns = ['event_id', 'sr_id', 'tenant_id', 'event_at', 'event_type', 'new_status', 'new_assignee_id'] %}
with

events as (
    select * from {{ ref('stg_itsm__sr_events') }}
    {%- if reprocess_window_start() is not none %}
    where sr_id in (select sr_id from {{ ref('int_service_requests__changed') }})
        or sr_id is null
    {%- endif %}
),

tenant_timezones as (
    select * from {{ ref('int_tenants__timezone_checks') }}
),

accepted_requests as (
    select * from {{ ref('int_service_requests__accepted') }}
),

raw_request_keys as (
    select distinct sr_id from {{ ref('stg_itsm__service_requests') }}
    where sr_id is not null
    {%- if reprocess_window_start() is not none %}
        and sr_id in (select sr_id from {{ ref('int_service_requests__changed') }})
    {%- endif %}
),

row_checks as (
    select
        events.*,
        case
            when events.parse_failures like '%|event_id|%' then 'KEY_NOT_NUMERIC'
            when events.event_id is null then 'KEY_MISSING'
            when events.parse_failures like '%|sr_id|%' then 'REQUEST_NOT_NUMERIC'
            when events.sr_id is null then 'REQUEST_MISSING'
            when events.parse_failures like '%|tenant_id|%' then 'TENANT_NOT_NUMERIC'
            when events.tenant_id is null then 'TENANT_MISSING'
            when not tenant_timezones.is_valid_timezone then 'TENANT_TIMEZONE_INVALID'
            when events.parse_failures <> '|' then 'VALUE_NOT_PARSEABLE'
            when events.event_type is null
                or events.event_type not in ('STATUS', 'ASSIGNMENT')
                then 'UNKNOWN_EVENT_TYPE'
            when events.event_type = 'STATUS' and events.new_status is null
                then 'STATUS_MISSING'
            when events.event_type = 'STATUS'
                and events.new_status not in ('OPEN', 'IN_PROGRESS', 'ON_HOLD', 'DONE', 'CANCELLED')
                then 'UNKNOWN_STATUS'
            when events.event_type = 'ASSIGNMENT' and events.new_assignee_id is null
                then 'ASSIGNEE_MISSING'
            when events.event_at is null then 'EVENT_AT_MISSING'
            when events.event_at > {{ dbt.dateadd('hour', future_tolerance_hours(), as_of_timestamp()) }}
                then 'EVENT_IN_FUTURE'
        end as row_rejection_reason,
        tenant_timezones.timezone as tenant_timezone
    from events
    left join tenant_timezones
        on events.tenant_id = tenant_timezones.tenant_id
),

request_checks as (
    select
        row_checks.*,
        coalesce(
            row_rejection_reason,
            case
                when accepted_requests.sr_id is null and raw_request_keys.sr_id is not null
                    then 'REQUEST_REJECTED'
                when accepted_requests.sr_id is null then 'UNKNOWN_REQUEST'
                when row_checks.tenant_id <> accepted_requests.tenant_id then 'TENANT_MISMATCH'
                when row_checks.event_at < accepted_requests.created_at
                    then 'EVENT_BEFORE_CREATION'
            end
        ) as checked_reason,
        accepted_requests.tenant_id as request_tenant_id
    from row_checks
    left join accepted_requests
        on row_checks.sr_id = accepted_requests.sr_id
    left join raw_request_keys
        on row_checks.sr_id = raw_request_keys.sr_id
),

duplicated_keys as (
    -- keys held by more than one row passing the rules (rare: only these are ranked)
    select event_id
    from request_checks
    where checked_reason is null
    group by event_id
    having count(*) > 1
),

single_rows as (
    select
        request_checks.*,
        1 as key_rank,
        1 as key_count
    from request_checks
    left join duplicated_keys
        on request_checks.event_id = duplicated_keys.event_id
    where request_checks.checked_reason is not null
        or duplicated_keys.event_id is null
),

duplicate_rows as (
    select
        request_checks.*,
        row_number() over (
            partition by request_checks.event_id
            order by {{ raw_values_json(raw_columns, 'raw_') }}
        ) as key_rank,
        count(*) over (partition by request_checks.event_id) as key_count
    from request_checks
    inner join duplicated_keys
        on request_checks.event_id = duplicated_keys.event_id
    where request_checks.checked_reason is null
),

key_ranked as (
    select * from single_rows
    union all
    select * from duplicate_rows
),

reasoned as (
    select
        key_ranked.*,
        coalesce(
            checked_reason,
            case when key_rank > 1 then 'DUPLICATE_KEY' end
        ) as rejection_reason
    from key_ranked
),

final as (
    select
        -- keys
        event_id,
        sr_id,
        tenant_id,
        -- attributes
        event_type,
        new_status,
        new_assignee_id,
        -- timestamps (UTC)
        event_at,
        -- validation
        rejection_reason,
        case rejection_reason
            when 'KEY_NOT_NUMERIC' then 'event_id ' || trim(cast(raw_event_id as {{ dbt.type_string() }})) || ' is not a whole number'
            when 'KEY_MISSING' then 'event_id is missing'
            when 'REQUEST_NOT_NUMERIC' then 'sr_id is not a whole number'
            when 'REQUEST_MISSING' then 'sr_id is missing'
            when 'TENANT_NOT_NUMERIC' then 'tenant_id is not a whole number'
            when 'TENANT_MISSING' then 'tenant_id is missing'
            when 'TENANT_TIMEZONE_INVALID'
                then 'tenant ' || cast(tenant_id as {{ dbt.type_string() }})
                    || ' has an unknown timezone in seeds/tenants.csv: ' || tenant_timezone
            when 'VALUE_NOT_PARSEABLE'
                then 'values that do not parse in columns ' || parse_failures
            when 'UNKNOWN_EVENT_TYPE'
                then 'event_type ' || coalesce(event_type, 'null') || ' is not STATUS or ASSIGNMENT'
            when 'STATUS_MISSING' then 'STATUS event without new_status'
            when 'UNKNOWN_STATUS'
                then 'new_status ' || new_status
                    || ' is not OPEN, IN_PROGRESS, ON_HOLD, DONE or CANCELLED'
            when 'ASSIGNEE_MISSING' then 'ASSIGNMENT event without new_assignee_id'
            when 'EVENT_AT_MISSING' then 'event_at is missing'
            when 'EVENT_IN_FUTURE'
                then 'event_at is more than {{ future_tolerance_hours() }} hour(s) after as_of'
            when 'REQUEST_REJECTED'
                then 'request ' || cast(sr_id as {{ dbt.type_string() }})
                    || ' was rejected (see its own row)'
            when 'UNKNOWN_REQUEST'
                then 'no request ' || cast(sr_id as {{ dbt.type_string() }})
                    || ' in service_requests'
            when 'TENANT_MISMATCH'
                then 'tenant_id ' || cast(tenant_id as {{ dbt.type_string() }})
                    || ' differs from its request' || chr(39) || 's tenant '
                    || cast(request_tenant_id as {{ dbt.type_string() }})
            when 'EVENT_BEFORE_CREATION' then 'event_at is before its request' || chr(39) || 's created_at'
            when 'DUPLICATE_KEY'
                then 'event_id ' || cast(event_id as {{ dbt.type_string() }}) || ' appears '
                    || cast(key_count as {{ dbt.type_string() }}) || ' times; one is kept'
        end as rejection_detail,
        case
            when rejection_reason is not null
                then nullif(trim(cast(raw_event_id as {{ dbt.type_string() }})), '')
        end as raw_key,
        case
            when rejection_reason is not null then {{ raw_values_json(raw_columns, 'raw_') }}
        end as raw_values
    from reasoned
)

select * from final
