{{
    config(
        materialized='incremental',
        incremental_strategy='replace',
        on_schema_change='fail',
        meta={'replace_scope': 'recomputed_periods'},
    )
}}
-- depends_on: {{ ref('int_tenants__periods') }}  (the periods the strategy replaces)

-- The DAILY KPI facts. Incremental (strategy `replace`): a run recomputes the tenant
-- periods overlapping the window [min_date, max_date) (UTC; by default, everything), for
-- every KPI or only those of kpi_selection() (a manual recalculation), and replaces their
-- rows in one transaction.
with

period_values as (
    select * from {{ ref('int_kpi__period_values') }}
    where grain = 'DAILY'
        and {{ kpi_selection('kpi_name') }}
),

final as (
    select
        {{ kpi_fact_columns('period_values') }}
    from period_values
)

select * from final
