-- Accepted raw rows that disagree with other data; the engine trusts the other side and
-- records the disagreement. RESOLVED_AT_MISMATCH: a request with a status history whose
-- resolved_at differs from the resolution the history gives (the history wins).
with

requests as (
    select * from {{ ref('int_service_requests__accepted') }}
),

timeline as (
    select * from {{ ref('int_service_requests__status_timeline') }}
),

lifecycle as (
    select * from {{ ref('int_service_requests__lifecycle') }}
),

requests_with_history as (
    -- a timeline made of STATUS events (not derived from the row): one row per request
    select sr_id from timeline
    where is_last_status
        and not is_derived
),

mismatches as (
    select
        requests.sr_id,
        requests.tenant_id,
        requests.status,
        requests.created_at,
        requests.updated_at,
        requests.resolved_at,
        lifecycle.resolved_at as history_resolved_at
    from requests
    inner join requests_with_history
        on requests.sr_id = requests_with_history.sr_id
    inner join lifecycle
        on requests.sr_id = lifecycle.sr_id
    where
        -- a resolution after as_of is not known to the history yet
        not (lifecycle.resolved_at is null and requests.resolved_at > {{ as_of_timestamp() }})
        and (
            (requests.resolved_at is null) <> (lifecycle.resolved_at is null)
            or requests.resolved_at <> lifecycle.resolved_at
        )
),

flagged as (
    -- the raw values, built for the flagged rows only
    select
        mismatches.*,
        mismatches.resolved_at as row_resolved_at,
        {{ raw_values_json(['sr_id', 'tenant_id', 'status', 'created_at', 'updated_at', 'resolved_at']) }}
            as row_values
    from mismatches
),

final as (
    select
        -- keys
        cast('service_requests' as {{ dbt.type_string() }}) as source_table,
        cast(sr_id as {{ dbt.type_string() }}) as raw_key,
        cast(tenant_id as bigint) as tenant_id,
        -- the flag
        cast('RESOLVED_AT_MISMATCH' as {{ dbt.type_string() }}) as flag_reason,
        cast(
            'resolved_at ' || coalesce(cast(row_resolved_at as {{ dbt.type_string() }}), 'null')
            || ' but the status history gives '
            || coalesce(cast(history_resolved_at as {{ dbt.type_string() }}), 'not resolved')
            || '; the history is used'
            as {{ dbt.type_string() }}
        ) as flag_detail,
        cast(row_values as {{ dbt.type_string() }}) as raw_values
    from flagged
)

select * from final
