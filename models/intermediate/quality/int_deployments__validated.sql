-- Every raw deployment with the first rule it breaks (null when accepted). Rules in
-- order: the key, the tenant, values that do not parse, the status, the times; then,
-- among the rows passing them, one row per deployment_id: the latest finished_at (a
-- running copy loses to a finished one), then the smallest raw text; the others are
-- DUPLICATE_KEY.
{%- set raw_columns = ['deployment_id', 'tenant_id', 'service', 'environment', 'status', 'started_at', 'finished_at', 'commit_at', 'fixes_sr_id'] %}
with

deployments as (
    select * from {{ ref('stg_itsm__deployments') }}
),

tenant_timezones as (
    select * from {{ ref('int_tenants__timezone_checks') }}
),

row_checks as (
    select
        deployments.*,
        case
            when deployments.parse_failures like '%|deployment_id|%' then 'KEY_NOT_NUMERIC'
            when deployments.deployment_id is null then 'KEY_MISSING'
            when deployments.parse_failures like '%|tenant_id|%' then 'TENANT_NOT_NUMERIC'
            when deployments.tenant_id is null then 'TENANT_MISSING'
            when not tenant_timezones.is_valid_timezone then 'TENANT_TIMEZONE_INVALID'
            when deployments.parse_failures <> '|' then 'VALUE_NOT_PARSEABLE'
            when deployments.status is null
                or deployments.status not in ('DEPLOYED', 'FAILED', 'ROLLED_BACK', 'IN_PROGRESS', 'CANCELLED')
                then 'UNKNOWN_STATUS'
            when deployments.started_at is null then 'STARTED_AT_MISSING'
            when deployments.started_at > {{ dbt.dateadd('hour', future_tolerance_hours(), as_of_timestamp()) }}
                then 'STARTED_IN_FUTURE'
            when deployments.finished_at < deployments.started_at then 'FINISHED_BEFORE_STARTED'
            when deployments.status in ('DEPLOYED', 'FAILED', 'ROLLED_BACK')
                and deployments.finished_at is null
                then 'FINISHED_AT_MISSING'
        end as row_rejection_reason,
        tenant_timezones.timezone as tenant_timezone
    from deployments
    left join tenant_timezones
        on deployments.tenant_id = tenant_timezones.tenant_id
),

duplicated_keys as (
    -- keys held by more than one row passing the rules (rare: only these are ranked)
    select deployment_id
    from row_checks
    where row_rejection_reason is null
    group by deployment_id
    having count(*) > 1
),

single_rows as (
    select
        row_checks.*,
        1 as key_rank,
        1 as key_count
    from row_checks
    left join duplicated_keys
        on row_checks.deployment_id = duplicated_keys.deployment_id
    where row_checks.row_rejection_reason is not null
        or duplicated_keys.deployment_id is null
),

duplicate_rows as (
    select
        row_checks.*,
        row_number() over (
            partition by row_checks.deployment_id
            order by finished_at desc nulls last, {{ raw_values_json(raw_columns, 'raw_') }}
        ) as key_rank,
        count(*) over (partition by row_checks.deployment_id) as key_count
    from row_checks
    inner join duplicated_keys
        on row_checks.deployment_id = duplicated_keys.deployment_id
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
        deployment_id,
        tenant_id,
        fixes_sr_id,
        -- attributes
        service,
        environment,
        status,
        -- timestamps (UTC)
        started_at,
        finished_at,
        commit_at,
        -- validation
        rejection_reason,
        case rejection_reason
            when 'KEY_NOT_NUMERIC' then 'deployment_id ' || trim(cast(raw_deployment_id as {{ dbt.type_string() }})) || ' is not a whole number'
            when 'KEY_MISSING' then 'deployment_id is missing'
            when 'TENANT_NOT_NUMERIC' then 'tenant_id is not a whole number'
            when 'TENANT_MISSING' then 'tenant_id is missing'
            when 'TENANT_TIMEZONE_INVALID'
                then 'tenant ' || cast(tenant_id as {{ dbt.type_string() }})
                    || ' has an unknown timezone in seeds/tenants.csv: ' || tenant_timezone
            when 'VALUE_NOT_PARSEABLE'
                then 'values that do not parse in columns ' || parse_failures
            when 'UNKNOWN_STATUS'
                then 'status ' || coalesce(status, 'null')
                    || ' is not DEPLOYED, FAILED, ROLLED_BACK, IN_PROGRESS or CANCELLED'
            when 'STARTED_AT_MISSING' then 'started_at is missing'
            when 'STARTED_IN_FUTURE'
                then 'started_at is more than {{ future_tolerance_hours() }} hour(s) after as_of'
            when 'FINISHED_BEFORE_STARTED' then 'finished_at is before started_at'
            when 'FINISHED_AT_MISSING'
                then 'status ' || status || ' without finished_at'
            when 'DUPLICATE_KEY'
                then 'deployment_id ' || cast(deployment_id as {{ dbt.type_string() }})
                    || ' appears ' || cast(key_count as {{ dbt.type_string() }})
                    || ' times; the row with the latest finished_at is kept'
        end as rejection_detail,
        case
            when rejection_reason is not null
                then nullif(trim(cast(raw_deployment_id as {{ dbt.type_string() }})), '')
        end as raw_key,
        case
            when rejection_reason is not null then {{ raw_values_json(raw_columns, 'raw_') }}
        end as raw_values
    from reasoned
)

select * from final
