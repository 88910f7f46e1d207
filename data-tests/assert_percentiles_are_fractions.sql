-- A PERCENTILE KPI needs its percentile as a fraction strictly between 0 and 1 (0.5 is
-- the median); any other aggregation leaves it blank. Each failing row names the KPI.
with

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

final as (
    select
        kpi_name,
        aggregation,
        percentile
    from definitions
    where (aggregation = 'PERCENTILE' and (percentile is null or percentile <= 0 or percentile >= 1))
        or (aggregation <> 'PERCENTILE' and percentile is not null)
)

select * from final
