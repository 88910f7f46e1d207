-- MetricFlow's time spine: one row per calendar day. MetricFlow joins to it for
-- cumulative and offset metrics and to fill periods without rows; KPI periods are local
-- dates, so the spine is plain dates too. dbt-core's cross-database date_spine.
with

days as (
    {{ dbt.date_spine(
        'day',
        "cast('2015-01-01' as date)",
        "cast('2040-01-01' as date)",
    ) }}
),

final as (
    select
        -- keys
        cast(date_day as date) as date_day
    from days
)

select * from final
