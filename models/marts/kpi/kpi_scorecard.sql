-- Per tenant and enabled KPI, at the KPI's default grain: the period holding as_of and
-- the one before it.
with

periods as (
    select * from {{ ref('int_tenants__periods') }}
),

tenants as (
    select * from {{ ref('int_tenants__activity') }}
),

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
),

current_values as (
    select
        kpi_values.*,
        periods.period_start as current_period_start
    from periods
    inner join definitions
        on periods.grain = definitions.default_grain
    inner join kpi_values
        on periods.tenant_id = kpi_values.tenant_id
        and definitions.kpi_name = kpi_values.kpi_name
        and periods.grain = kpi_values.grain
        and periods.period_start = kpi_values.period_start
    where periods.is_current
),

final as (
    select
        -- keys
        current_values.tenant_id,
        current_values.kpi_name,
        -- attributes
        tenants.tenant_name,
        definitions.display_name,
        definitions.display_name_en,
        definitions.unit,
        current_values.direction,
        current_values.grain,
        -- current period
        current_values.period_start,
        current_values.period_end,
        current_values.value,
        current_values.target,
        current_values.achievement_pct,
        current_values.status,
        -- previous period
        previous_periods.period_start as previous_period_start,
        previous_values.value as previous_value,
        previous_values.status as previous_status,
        -- timestamps (UTC)
        {{ as_of_timestamp() }} as as_of
    from current_values
    inner join tenants
        on current_values.tenant_id = tenants.tenant_id
    inner join definitions
        on current_values.kpi_name = definitions.kpi_name
    left join periods as previous_periods
        on current_values.tenant_id = previous_periods.tenant_id
        and current_values.grain = previous_periods.grain
        and current_values.period_start = previous_periods.period_end
    left join kpi_values as previous_values
        on previous_periods.tenant_id = previous_values.tenant_id
        and current_values.kpi_name = previous_values.kpi_name
        and previous_periods.grain = previous_values.grain
        and previous_periods.period_start = previous_values.period_start
)

select * from final
