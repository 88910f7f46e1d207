-- One row per raw table: rows in, accepted, rejected and flagged, and the rejection rate.
-- Each count comes from its own model, so the reconciliation test
-- (raw_rows = accepted_rows + rejected_rows) catches a row lost or doubled on the way.
with

raw_counts as (
    select 'service_requests' as source_table, count(*) as raw_rows
    from {{ ref('stg_itsm__service_requests') }}
    union all
    select 'sr_events' as source_table, count(*) as raw_rows
    from {{ ref('stg_itsm__sr_events') }}
    union all
    select 'deployments' as source_table, count(*) as raw_rows
    from {{ ref('stg_itsm__deployments') }}
),

accepted_counts as (
    select 'service_requests' as source_table, count(*) as accepted_rows
    from {{ ref('int_service_requests__accepted') }}
    union all
    select 'sr_events' as source_table, count(*) as accepted_rows
    from {{ ref('int_sr_events__accepted') }}
    union all
    select 'deployments' as source_table, count(*) as accepted_rows
    from {{ ref('int_deployments__accepted') }}
),

rejected_counts as (
    select source_table, count(*) as rejected_rows
    from {{ ref('rejected_raw_rows') }}
    group by source_table
),

flagged_counts as (
    -- a row flagged for two reasons is one flagged row
    select source_table, count(distinct raw_key) as flagged_rows
    from {{ ref('flagged_raw_rows') }}
    group by source_table
),

final as (
    select
        -- keys
        cast(raw_counts.source_table as {{ dbt.type_string() }}) as source_table,
        -- measures
        cast(raw_counts.raw_rows as bigint) as raw_rows,
        cast(coalesce(accepted_counts.accepted_rows, 0) as bigint) as accepted_rows,
        cast(coalesce(rejected_counts.rejected_rows, 0) as bigint) as rejected_rows,
        cast(coalesce(flagged_counts.flagged_rows, 0) as bigint) as flagged_rows,
        cast(
            case
                when raw_counts.raw_rows > 0
                    then 100.0 * coalesce(rejected_counts.rejected_rows, 0) / raw_counts.raw_rows
            end as {{ type_double() }}
        ) as rejection_rate_pct,
        -- timestamps (UTC)
        cast({{ as_of_timestamp() }} as timestamp) as checked_at
    from raw_counts
    left join accepted_counts
        on raw_counts.source_table = accepted_counts.source_table
    left join rejected_counts
        on raw_counts.source_table = rejected_counts.source_table
    left join flagged_counts
        on raw_counts.source_table = flagged_counts.source_table
)

select * from final
