{{
    config(
        materialized='incremental',
        incremental_strategy='replace',
        on_schema_change='fail',
        meta={'replace_scope': 'recomputed_periods', 'postgres_work_mem': '256MB'},
    )
}}
-- depends_on: {{ ref('int_tenants__periods') }}  (the periods the strategy replaces)

-- The KPI values by breakdown (team, service, priority, request type, environment), every
-- grain of var('breakdown_grains') in one table. Incremental (strategy `replace`): a run
-- recomputes the tenant periods of every grain overlapping the window [min_date,
-- max_date) (UTC; by default, everything), for every KPI or only those of
-- kpi_selection(), and replaces their rows in one transaction.
with

breakdown_values as (
    select * from {{ ref('int_kpi__breakdown_values') }}
    where {{ kpi_selection('kpi_name') }}
),

final as (
    select
        {{ kpi_fact_columns('breakdown_values', breakdowns=true) }}
    from breakdown_values
)

select * from final
