-- The KPI catalogue (kpi_definitions.csv), for BI tools.
with

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

final as (
    select
        -- keys
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name,
        -- labels
        cast(display_name as {{ dbt.type_string() }}) as display_name,
        cast(display_name_en as {{ dbt.type_string() }}) as display_name_en,
        cast(description as {{ dbt.type_string() }}) as description,
        cast(description_en as {{ dbt.type_string() }}) as description_en,
        cast(unit as {{ dbt.type_string() }}) as unit,
        -- rules
        cast(direction as {{ dbt.type_string() }}) as direction,
        cast(default_target as {{ type_double() }}) as default_target,
        cast(default_grain as {{ dbt.type_string() }}) as default_grain,
        cast(aggregation as {{ dbt.type_string() }}) as aggregation,
        cast(percentile as {{ type_double() }}) as percentile,
        cast(value_multiplier as {{ type_double() }}) as value_multiplier,
        cast(value_decimals as integer) as value_decimals,
        -- a RATIO's denominator: MEASUREMENTS (the sum of its measurements' denominators)
        -- or ELAPSED_DAYS (the local days of the period started before as_of)
        cast(case
            when aggregation = 'RATIO'
                then coalesce(nullif(upper(trim(denominator_basis)), ''), 'MEASUREMENTS')
        end as {{ dbt.type_string() }}) as denominator_basis,
        -- the breakdowns of fct_kpi_breakdowns it has (null: every one of its subject's)
        cast(nullif(replace(upper(breakdowns), ' ', ''), '') as {{ dbt.type_string() }})
            as breakdowns,
        cast(coalesce(green_threshold_pct, 95.0) as {{ type_double() }}) as green_threshold_pct,
        cast(coalesce(yellow_threshold_pct, 80.0) as {{ type_double() }}) as yellow_threshold_pct,
        cast(coalesce(lower_better_yellow_ratio, 1.2) as {{ type_double() }}) as lower_better_yellow_ratio,
        cast(is_builtin as boolean) as is_builtin
    from definitions
)

select * from final
