{{
    config(
        materialized='incremental',
        incremental_strategy='replace',
        on_schema_change='fail',
        meta={
            'replace_scope': 'recomputed_periods',
            'replace_also': "grain not in ('" ~ breakdown_grains() | join("', '") ~ "')",
            'postgres_work_mem': '256MB',
        },
    )
}}
-- depends_on: {{ ref('int_tenants__periods') }}  (the periods the strategy replaces)

-- The KPI values by breakdown (team, service, priority, request type, environment), every
-- grain of var('breakdown_grains') in one table, and the scorecard cards' slices at a
-- KPI's default grain outside it (SR_BACKLOG's DAILY), in the period holding as_of only.
-- Incremental (strategy `replace`): a run recomputes the tenant periods of every grain
-- overlapping the window [min_date, max_date) (UTC; by default, everything), and the
-- cards' periods whatever the window, for every KPI or only those of kpi_selection(),
-- and replaces their rows in one transaction (every row of a grain outside the var: the
-- card's previous period leaves the table when its next one begins).
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
