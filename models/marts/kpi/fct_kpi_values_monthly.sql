{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ lock_kpi_facts() }}", "{{ delete_kpi_window('MONTHLY') }}"],
    )
}}

-- depends_on: {{ ref('int_tenants__periods') }}  (read by the delete_kpi_window pre-hook)

-- The MONTHLY KPI facts. Incremental: a run recomputes the tenant periods overlapping the
-- window [min_date, max_date) (UTC), the unit of a Dagster monthly partition (by default,
-- everything), for every KPI or only those of kpi_selection() (a manual recalculation).
with

period_values as (
    select * from {{ ref('int_kpi__period_values') }}
    where grain = 'MONTHLY'
        and period_end_at > {{ window_bound('min_date') }}
        and period_start_at < {{ window_bound('max_date') }}
        and {{ kpi_selection('kpi_name') }}
),

final as (
    select
        {{ kpi_fact_columns('period_values') }}
    from period_values
)

select * from final
