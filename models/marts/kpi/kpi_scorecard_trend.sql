-- Per tenant and scorecard KPI, at the KPI's default grain (the scorecard's): the last 12
-- periods up to and including the one holding as_of, for trend charts. A period in which
-- the KPI was not enabled is kept, without value, target or status.

with

scorecard as (
    select * from {{ ref('kpi_scorecard') }}
),

periods as (
    select * from {{ ref('int_tenants__periods') }}
),

kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
),

scorecard_periods as (
    -- every period of the scorecard's grain up to the current one, newest first
    select
        scorecard.tenant_id,
        scorecard.kpi_name,
        scorecard.grain,
        periods.period_start,
        periods.period_end,
        periods.is_complete,
        periods.is_current,
        row_number() over (
            partition by scorecard.tenant_id, scorecard.kpi_name
            order by periods.period_start desc
        ) - 1 as period_index
    from scorecard
    inner join periods
        on scorecard.tenant_id = periods.tenant_id
        and scorecard.grain = periods.grain
        and periods.period_start <= scorecard.period_start
),

last_periods as (
    select * from scorecard_periods
    where period_index < 12
),

final as (
    select
        -- keys
        last_periods.tenant_id,
        last_periods.kpi_name,
        cast(last_periods.period_index as {{ dbt.type_int() }}) as period_index,
        -- period
        last_periods.grain,
        last_periods.period_start,
        last_periods.period_end,
        last_periods.is_complete,
        last_periods.is_current,
        -- measures (null when the KPI was not enabled in the period)
        kpi_values.value,
        kpi_values.target,
        kpi_values.achievement_pct,
        kpi_values.status,
        -- timestamps (UTC)
        {{ as_of_timestamp() }} as as_of
    from last_periods
    left join kpi_values
        on last_periods.tenant_id = kpi_values.tenant_id
        and last_periods.kpi_name = kpi_values.kpi_name
        and last_periods.grain = kpi_values.grain
        and last_periods.period_start = kpi_values.period_start
)

select * from final
