{{ config(materialized='view') }}

-- The KPI fact table BI tools read: the daily, weekly and monthly fact tables together.
-- A view, so it is always exactly their union, whichever partitions ran last.
with

daily as (
    select * from {{ ref('fct_kpi_values_daily') }}
),

weekly as (
    select * from {{ ref('fct_kpi_values_weekly') }}
),

monthly as (
    select * from {{ ref('fct_kpi_values_monthly') }}
),

final as (
    select * from daily
    union all
    select * from weekly
    union all
    select * from monthly
)

select * from final
