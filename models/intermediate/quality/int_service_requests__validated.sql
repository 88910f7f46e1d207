-- Every raw service request with the first rule it breaks (null when accepted). Rules in
-- order: the key, the tenant, values that do not parse, codes, timestamps; then, among
-- the rows passing them, one row per sr_id: the latest updated_at (then the smallest raw
-- text, so the choice is deterministic); the others are DUPLICATE_KEY.
-- Incremental: a windowed run revalidates only the changed requests' rows and the rows
-- without a key (see reprocess_window_start); other runs rebuild it whole.
{{
    config(
        materialized='incremental',
        incremental_strategy='replace',
        on_schema_change='sync_all_columns',
        meta={'replace_scope': 'reprocessed_requests', 'replace_also': 'sr_id is null'},
    )
}}
-- depends_on: {{ ref('int_service_requests__changed') }}
{%- set raw_columns = ['sr_id', 'tenant_id', 'request_type', 'priority', 'status', 'service', 'team', 'assignee_id', 'created_at', 'updated_at', 'resolved_at', 'caused_by_deployment_id'] %}
with

requests as (
    select * from {{ ref('stg_itsm__service_requests') }}
    {%- if reprocess_window_start() is not none %}
    where sr_id in (select sr_id from {{ ref('int_service_requests__changed') }})
        or sr_id is null
    {%- endif %}
),

tenant_timezones as (
    select * from {{ ref('int_tenants__timezone_checks') }}
),

row_checks as (
    select
        requests.*,
        case
            when requests.parse_failures like '%|sr_id|%' then 'KEY_NOT_NUMERIC'
            when requests.sr_id is null then 'KEY_MISSING'
            when requests.parse_failures like '%|tenant_id|%' then 'TENANT_NOT_NUMERIC'
            when requests.tenant_id is null then 'TENANT_MISSING'
            when not tenant_timezones.is_valid_timezone then 'TENANT_TIMEZONE_INVALID'
            when requests.parse_failures <> '|' then 'VALUE_NOT_PARSEABLE'
            when requests.request_type is null
                or requests.request_type not in ('INCIDENT', 'SERVICE_REQUEST', 'CHANGE')
                then 'UNKNOWN_REQUEST_TYPE'
            when requests.priority is null
                or requests.priority not in ('P1', 'P2', 'P3', 'P4')
                then 'UNKNOWN_PRIORITY'
            when requests.status is null
                or requests.status not in ('OPEN', 'IN_PROGRESS', 'ON_HOLD', 'DONE', 'CANCELLED')
                then 'UNKNOWN_STATUS'
            when requests.created_at is null then 'CREATED_AT_MISSING'
            when requests.created_at > {{ dbt.dateadd('hour', future_tolerance_hours(), as_of_timestamp()) }}
                then 'CREATED_IN_FUTURE'
            when requests.resolved_at < requests.created_at then 'RESOLVED_BEFORE_CREATED'
        end as row_rejection_reason,
        tenant_timezones.timezone as tenant_timezone
    from requests
    left join tenant_timezones
        on requests.tenant_id = tenant_timezones.tenant_id
),

duplicated_keys as (
    -- keys held by more than one row passing the rules (rare: only these are ranked)
    select sr_id
    from row_checks
    where row_rejection_reason is null
    group by sr_id
    having count(*) > 1
),

single_rows as (
    select
        row_checks.*,
        1 as key_rank,
        1 as key_count
    from row_checks
    left join duplicated_keys
        on row_checks.sr_id = duplicated_keys.sr_id
    where row_checks.row_rejection_reason is not null
        or duplicated_keys.sr_id is null
),

duplicate_rows as (
    select
        row_checks.*,
        row_number() over (
            partition by row_checks.sr_id
            order by updated_at desc nulls last, {{ raw_values_json(raw_columns, 'raw_') }}
        ) as key_rank,
        count(*) over (partition by row_checks.sr_id) as key_count
    from row_checks
    inner join duplicated_keys
        on row_checks.sr_id = duplicated_keys.sr_id
    where row_checks.row_rejection_reason is null
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
            row_rejection_reason,
            case when key_rank > 1 then 'DUPLICATE_KEY' end
        ) as rejection_reason
    from key_ranked
),

final as (
    select
        -- keys
        sr_id,
        tenant_id,
        assignee_id,
        caused_by_deployment_id,
        -- attributes
        request_type,
        priority,
        status,
        service,
        team,
        -- timestamps (UTC)
        created_at,
        updated_at,
        resolved_at,
        -- validation
        rejection_reason,
        case rejection_reason
            when 'KEY_NOT_NUMERIC' then 'sr_id ' || trim(cast(raw_sr_id as {{ dbt.type_string() }})) || ' is not a whole number'
            when 'KEY_MISSING' then 'sr_id is missing'
            when 'TENANT_NOT_NUMERIC' then 'tenant_id is not a whole number'
            when 'TENANT_MISSING' then 'tenant_id is missing'
            when 'TENANT_TIMEZONE_INVALID'
                then 'tenant ' || cast(tenant_id as {{ dbt.type_string() }})
                    || ' has an unknown timezone in seeds/tenants.csv: ' || tenant_timezone
            when 'VALUE_NOT_PARSEABLE'
                then 'values that do not parse in columns ' || parse_failures
            when 'UNKNOWN_REQUEST_TYPE'
                then 'request_type ' || coalesce(request_type, 'null')
                    || ' is not INCIDENT, SERVICE_REQUEST or CHANGE'
            when 'UNKNOWN_PRIORITY'
                then 'priority ' || coalesce(priority, 'null') || ' is not P1, P2, P3 or P4'
            when 'UNKNOWN_STATUS'
                then 'status ' || coalesce(status, 'null')
                    || ' is not OPEN, IN_PROGRESS, ON_HOLD, DONE or CANCELLED'
            when 'CREATED_AT_MISSING' then 'created_at is missing'
            when 'CREATED_IN_FUTURE'
                then 'created_at is more than {{ future_tolerance_hours() }} hour(s) after as_of'
            when 'RESOLVED_BEFORE_CREATED' then 'resolved_at is before created_at'
            when 'DUPLICATE_KEY'
                then 'sr_id ' || cast(sr_id as {{ dbt.type_string() }}) || ' appears '
                    || cast(key_count as {{ dbt.type_string() }})
                    || ' times; the row with the latest updated_at is kept'
        end as rejection_detail,
        case
            when rejection_reason is not null
                then nullif(trim(cast(raw_sr_id as {{ dbt.type_string() }})), '')
        end as raw_key,
        case
            when rejection_reason is not null then {{ raw_values_json(raw_columns, 'raw_') }}
        end as raw_values
    from reasoned
)

select * from final
