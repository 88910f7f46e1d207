{#- Pre-hook of every model: planner settings for the model's transaction. On PostgreSQL,
    `enable_nestloop = off`: the models are whole-table analytic joins, and PostgreSQL's
    row estimates for CTEs read several times (int_kpi__period_values) or just filtered
    by a window are off by orders of magnitude, which made it pick nested loops over
    hundreds of thousands of rows (the 100k benchmark's fact tables ran for minutes; with
    hash joins they take seconds). `set local` ends with the transaction. No-op on DuckDB. -#}
{% macro planner_settings() -%}
    {{ return(adapter.dispatch('planner_settings', 'kpi_engine')()) }}
{%- endmacro %}

{% macro default__planner_settings() -%}
{%- endmacro %}

{% macro postgres__planner_settings() -%}
    set local enable_nestloop = off
{%- endmacro %}
