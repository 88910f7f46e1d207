-- One row per tenant: how many of its scorecard KPIs are GREEN, YELLOW, RED or NO_DATA,
-- and its overall light (RED if any RED, else YELLOW, else GREEN, else NO_DATA).
with

tenants as (
    select * from {{ ref('int_tenants__activity') }}
),

scorecard as (
    select * from {{ ref('kpi_scorecard') }}
),

status_counts as (
    select
        tenant_id,
        sum(case when status = 'GREEN' then 1 else 0 end) as green_count,
        sum(case when status = 'YELLOW' then 1 else 0 end) as yellow_count,
        sum(case when status = 'RED' then 1 else 0 end) as red_count,
        sum(case when status = 'NO_DATA' then 1 else 0 end) as no_data_count
    from scorecard
    group by tenant_id
),

final as (
    select
        -- keys
        tenants.tenant_id,
        -- attributes
        tenants.tenant_name,
        -- measures
        cast(coalesce(status_counts.green_count, 0) as bigint) as green_count,
        cast(coalesce(status_counts.yellow_count, 0) as bigint) as yellow_count,
        cast(coalesce(status_counts.red_count, 0) as bigint) as red_count,
        cast(coalesce(status_counts.no_data_count, 0) as bigint) as no_data_count,
        cast(
            case
                when coalesce(status_counts.red_count, 0) > 0 then 'RED'
                when coalesce(status_counts.yellow_count, 0) > 0 then 'YELLOW'
                when coalesce(status_counts.green_count, 0) > 0 then 'GREEN'
                else 'NO_DATA'
            end as {{ dbt.type_string() }}
        ) as overall_status,
        -- timestamps (UTC)
        {{ as_of_timestamp() }} as as_of
    from tenants
    left join status_counts
        on tenants.tenant_id = status_counts.tenant_id
)

select * from final
