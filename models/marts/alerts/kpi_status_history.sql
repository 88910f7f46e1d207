{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        on_schema_change='fail',
    )
}}

-- The history of the traffic lights: each run appends the scorecard rows whose period has
-- no recorded light yet or whose light changed since the last one recorded for it, with
-- the run's start as seen_at. A scorecard computed for an as_of earlier than one already
-- recorded for the tenant, KPI and grain (a recalculation of the past) is not recorded.
-- Append only, kept by --full-refresh (full_refresh=false): it cannot be rebuilt.
with

scorecard as (
    select * from {{ ref('kpi_scorecard') }}
),

{% if is_incremental() %}
recorded as (
    select * from {{ this }}
),

latest_as_of as (
    select
        tenant_id,
        kpi_name,
        grain,
        max(as_of) as latest_as_of
    from recorded
    group by tenant_id, kpi_name, grain
),

recorded_ranked as (
    select
        recorded.*,
        row_number() over (
            partition by tenant_id, kpi_name, grain, period_start
            order by seen_at desc
        ) as recency_rank
    from recorded
),

latest_lights as (
    -- the light last recorded for each tenant, KPI, grain and period
    select * from recorded_ranked
    where recency_rank = 1
),

new_lights as (
    select scorecard.*
    from scorecard
    left join latest_as_of
        on scorecard.tenant_id = latest_as_of.tenant_id
        and scorecard.kpi_name = latest_as_of.kpi_name
        and scorecard.grain = latest_as_of.grain
    left join latest_lights
        on scorecard.tenant_id = latest_lights.tenant_id
        and scorecard.kpi_name = latest_lights.kpi_name
        and scorecard.grain = latest_lights.grain
        and scorecard.period_start = latest_lights.period_start
    where (latest_as_of.latest_as_of is null or scorecard.as_of >= latest_as_of.latest_as_of)
        and (latest_lights.tenant_id is null or latest_lights.status <> scorecard.status)
),
{% else %}
new_lights as (
    -- the first run records every scorecard row
    select * from scorecard
),
{% endif %}

final as (
    select
        -- keys
        cast(tenant_id as bigint) as tenant_id,
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(grain as {{ dbt.type_string() }}) as grain,
        cast(period_start as date) as period_start,
        -- attributes
        cast(period_end as date) as period_end,
        cast(status as {{ dbt.type_string() }}) as status,
        -- measures
        cast(value as {{ type_double() }}) as value,
        cast(target as {{ type_double() }}) as target,
        cast(achievement_pct as {{ type_double() }}) as achievement_pct,
        -- timestamps (UTC)
        cast(as_of as timestamp) as as_of,
        {{ run_started_timestamp() }} as seen_at
    from new_lights
)

select * from final
