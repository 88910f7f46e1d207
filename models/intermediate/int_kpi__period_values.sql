-- One row per tenant, enabled KPI, grain and local period: value, numerator,
-- denominator, target and traffic light. A view: the grain fact tables
-- (fct_kpi_values_daily / _weekly / _monthly) read the window of periods they recompute.
with

periods as (
    select * from {{ ref('int_tenants__periods') }}
),

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

targets as (
    select * from {{ ref('kpi_targets') }}
),

daily_measures as (
    select * from {{ ref('int_kpi__daily_measures') }}
),

-- the target row in effect at each period's start: the tenant's own, else the default
ranked_targets as (
    select
        periods.tenant_id,
        periods.grain,
        periods.period_start,
        targets.kpi_name,
        targets.target,
        targets.is_enabled,
        row_number() over (
            partition by
                periods.tenant_id,
                periods.grain,
                periods.period_start,
                targets.kpi_name
            order by
                case when targets.tenant_id is null then 1 else 0 end,
                targets.valid_from desc nulls last
        ) as target_rank
    from periods
    inner join targets
        on (targets.tenant_id = periods.tenant_id or targets.tenant_id is null)
        and (targets.valid_from is null or targets.valid_from <= periods.period_start)
        and (targets.valid_to is null or periods.period_start < targets.valid_to)
),

enabled_kpi_periods as (
    select
        periods.tenant_id,
        periods.grain,
        periods.period_start,
        periods.period_end,
        periods.is_complete,
        periods.period_start_at,
        periods.period_end_at,
        ranked_targets.kpi_name,
        cast(ranked_targets.target as double precision) as target
    from periods
    inner join ranked_targets
        on periods.tenant_id = ranked_targets.tenant_id
        and periods.grain = ranked_targets.grain
        and periods.period_start = ranked_targets.period_start
        and ranked_targets.target_rank = 1
        and ranked_targets.is_enabled
),

measures_by_period as (
    select tenant_id, kpi_name, 'DAILY' as grain, local_date as period_start,
        cast(numerator as double precision) as numerator,
        cast(denominator as double precision) as denominator
    from daily_measures

    union all

    select tenant_id, kpi_name, 'WEEKLY' as grain, week_start as period_start,
        cast(sum({{ exact_decimal('numerator') }}) as double precision) as numerator,
        cast(sum({{ exact_decimal('denominator') }}) as double precision) as denominator
    from daily_measures
    group by tenant_id, kpi_name, week_start

    union all

    select tenant_id, kpi_name, 'MONTHLY' as grain, month_start as period_start,
        cast(sum({{ exact_decimal('numerator') }}) as double precision) as numerator,
        cast(sum({{ exact_decimal('denominator') }}) as double precision) as denominator
    from daily_measures
    group by tenant_id, kpi_name, month_start
),

-- STOCK KPIs: the running total of changes over every period (not only the window)
stock_levels as (
    select
        periods.tenant_id,
        definitions.kpi_name,
        periods.grain,
        periods.period_start,
        cast(sum({{ exact_decimal('coalesce(measures_by_period.numerator, 0.0)') }}) over (
            partition by periods.tenant_id, definitions.kpi_name, periods.grain
            order by periods.period_start
            rows between unbounded preceding and current row
        ) as double precision) as level
    from periods
    cross join definitions
    left join measures_by_period
        on periods.tenant_id = measures_by_period.tenant_id
        and definitions.kpi_name = measures_by_period.kpi_name
        and periods.grain = measures_by_period.grain
        and periods.period_start = measures_by_period.period_start
    where definitions.aggregation = 'STOCK'
),

computed as (
    select
        enabled_kpi_periods.*,
        definitions.direction,
        definitions.value_decimals,
        definitions.green_threshold_pct,
        definitions.yellow_threshold_pct,
        definitions.lower_better_yellow_ratio,
        case
            when definitions.aggregation = 'STOCK' then coalesce(stock_levels.level, 0.0)
            else coalesce(measures_by_period.numerator, 0.0)
        end as numerator,
        case
            when definitions.aggregation = 'RATIO' then coalesce(measures_by_period.denominator, 0.0)
        end as denominator,
        definitions.aggregation,
        definitions.value_multiplier
    from enabled_kpi_periods
    inner join definitions
        on enabled_kpi_periods.kpi_name = definitions.kpi_name
    left join measures_by_period
        on enabled_kpi_periods.tenant_id = measures_by_period.tenant_id
        and enabled_kpi_periods.kpi_name = measures_by_period.kpi_name
        and enabled_kpi_periods.grain = measures_by_period.grain
        and enabled_kpi_periods.period_start = measures_by_period.period_start
    left join stock_levels
        on enabled_kpi_periods.tenant_id = stock_levels.tenant_id
        and enabled_kpi_periods.kpi_name = stock_levels.kpi_name
        and enabled_kpi_periods.grain = stock_levels.grain
        and enabled_kpi_periods.period_start = stock_levels.period_start
),

valued as (
    select
        computed.*,
        {{ round_half_up(
            "case
                when aggregation = 'RATIO' then
                    case when denominator > 0 then value_multiplier * numerator / denominator end
                else value_multiplier * numerator
            end",
            'value_decimals'
        ) }} as value
    from computed
),

final as (
    select
        -- keys
        cast(tenant_id as bigint) as tenant_id,
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(grain as {{ dbt.type_string() }}) as grain,
        cast(period_start as date) as period_start,
        -- period
        cast(period_end as date) as period_end,
        cast(is_complete as boolean) as is_complete,
        -- measures
        cast(value as double precision) as value,
        cast(numerator as double precision) as numerator,
        cast(denominator as double precision) as denominator,
        cast(target as double precision) as target,
        cast(direction as {{ dbt.type_string() }}) as direction,
        cast({{ round_half_up(achievement_pct('value', 'target', 'direction'), 1) }} as double precision)
            as achievement_pct,
        cast({{ kpi_status(
            'value', 'target', 'direction',
            'green_threshold_pct', 'yellow_threshold_pct', 'lower_better_yellow_ratio'
        ) }} as {{ dbt.type_string() }}) as status,
        -- timestamps (UTC)
        period_start_at,
        period_end_at
    from valued
)

select * from final
