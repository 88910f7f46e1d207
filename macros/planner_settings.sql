{#- Pre-hook of every model: planner settings for the model's transaction. On PostgreSQL,
    `enable_nestloop = off` and `enable_mergejoin = off`, so equality joins are hash
    joins: the models are whole-table analytic joins, and PostgreSQL's row estimates for
    CTEs read several times (int_kpi__period_values) or just filtered by a window are off
    by orders of magnitude (1 row for 730,000). With them it picked nested loops over
    hundreds of thousands of rows (the 100k benchmark's fact tables ran for minutes), then,
    with those off, merge joins rescanning their inner side (the 1M full build's daily
    facts read 534 million rows: 45 s; 12 s with hash joins). Joins on inequalities only
    still run as nested loops. `set local` ends with the transaction. No-op on DuckDB. -#}
{% macro planner_settings() -%}
    {{ return(adapter.dispatch('planner_settings', 'kpi_engine')()) }}
{%- endmacro %}

{% macro default__planner_settings() -%}
{%- endmacro %}

{% macro postgres__planner_settings() -%}
    set local enable_nestloop = off;
    set local enable_mergejoin = off
{%- endmacro %}
