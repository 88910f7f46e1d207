-- Accepted raw rows that disagree with other data; the engine trusts the other side and
-- records the disagreement. RESOLVED_AT_MISMATCH: a request with a status history whose
-- resolved_at differs from the resolution the history gives (the history wins). DORA
-- (README): CAUSING_DEPLOYMENT_NOT_FOUND, an incident whose caused_by_deployment_id names
-- no accepted deployment (no production deployment caused it); NEGATIVE_RECOVERY_TIME, an
-- incident resolved before the production deployment that caused it finished (left out of
-- FAILED_DEPLOYMENT_RECOVERY_TIME); COMMIT_AFTER_FINISHED, a deployment whose commit_at is
-- after its finished_at (left out of CHANGE_LEAD_TIME).
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

attributions as (
    select * from {{ ref('int_incidents__deployment_attribution') }}
),

recoveries as (
    select * from {{ ref('int_incidents__deployment_recoveries') }}
),

deployments as (
    select * from {{ ref('int_deployments__production') }}
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

resolved_at_mismatches as (
    select
        cast('service_requests' as {{ dbt.type_string() }}) as source_table,
        cast(sr_id as {{ dbt.type_string() }}) as raw_key,
        cast(tenant_id as bigint) as tenant_id,
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
),

missing_deployments as (
    select
        cast('service_requests' as {{ dbt.type_string() }}) as source_table,
        cast(attributions.sr_id as {{ dbt.type_string() }}) as raw_key,
        cast(attributions.tenant_id as bigint) as tenant_id,
        cast('CAUSING_DEPLOYMENT_NOT_FOUND' as {{ dbt.type_string() }}) as flag_reason,
        cast(
            'caused_by_deployment_id '
            || cast(attributions.caused_by_deployment_id as {{ dbt.type_string() }})
            || ' names no accepted deployment; no production deployment caused this incident'
            as {{ dbt.type_string() }}
        ) as flag_detail,
        cast(
            {{ raw_values_json(['sr_id', 'tenant_id', 'caused_by_deployment_id', 'created_at']) }}
            as {{ dbt.type_string() }}
        ) as raw_values
    from attributions
    where attributions.attribution = 'NOT_FOUND'
),

negative_recoveries as (
    select
        cast('service_requests' as {{ dbt.type_string() }}) as source_table,
        cast(sr_id as {{ dbt.type_string() }}) as raw_key,
        cast(tenant_id as bigint) as tenant_id,
        cast('NEGATIVE_RECOVERY_TIME' as {{ dbt.type_string() }}) as flag_reason,
        cast(
            'resolved at ' || cast(resolved_at as {{ dbt.type_string() }})
            || ', before the deployment that caused it ('
            || cast(deployment_id as {{ dbt.type_string() }})
            || ') finished at ' || cast(deployment_finished_at as {{ dbt.type_string() }})
            || '; left out of FAILED_DEPLOYMENT_RECOVERY_TIME'
            as {{ dbt.type_string() }}
        ) as flag_detail,
        cast(
            {{ raw_values_json(['sr_id', 'tenant_id', 'deployment_id', 'resolved_at', 'deployment_finished_at']) }}
            as {{ dbt.type_string() }}
        ) as raw_values
    from recoveries
    where recovery_hours < 0
),

late_commits as (
    select
        cast('deployments' as {{ dbt.type_string() }}) as source_table,
        cast(deployment_id as {{ dbt.type_string() }}) as raw_key,
        cast(tenant_id as bigint) as tenant_id,
        cast('COMMIT_AFTER_FINISHED' as {{ dbt.type_string() }}) as flag_reason,
        cast(
            'commit_at ' || cast(commit_at as {{ dbt.type_string() }})
            || ' is after finished_at ' || cast(finished_at as {{ dbt.type_string() }})
            || '; left out of CHANGE_LEAD_TIME'
            as {{ dbt.type_string() }}
        ) as flag_detail,
        cast(
            {{ raw_values_json(['deployment_id', 'tenant_id', 'environment', 'status', 'finished_at', 'commit_at']) }}
            as {{ dbt.type_string() }}
        ) as raw_values
    from deployments
    where commit_at > finished_at
),

final as (
    select * from resolved_at_mismatches
    union all
    select * from missing_deployments
    union all
    select * from negative_recoveries
    union all
    select * from late_commits
)

select * from final
