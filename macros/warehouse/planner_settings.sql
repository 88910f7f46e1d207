{#- Pre-hook of every model: planner settings for the model's transaction. On PostgreSQL,
    `enable_nestloop = off` and `enable_mergejoin = off`, so equality joins are hash
    joins: the models are whole-table analytic joins, and PostgreSQL's row estimates for
    CTEs read several times (int_kpi__period_values) or just filtered by a window are off
    by orders of magnitude (1 row for 730,000). With them it picked nested loops over
    hundreds of thousands of rows (the 100k benchmark's fact tables ran for minutes), then,
    with those off, merge joins rescanning their inner side (the 1M full build's daily
    facts read 534 million rows: 45 s; 12 s with hash joins). Joins on inequalities only
    still run as nested loops. And, for a model whose config has `meta: {postgres_jit:
    false}` (the KPI marts, dbt_project.yml), `jit = off`: the cost of a disabled join
    method is added to every plan, so every estimate passes the JIT thresholds, and a
    complex plan over moderate row counts spends seconds compiling itself (1M: the daily
    facts of a windowed run 6.4 s with JIT, 3.2 s without; the full build's weekly
    facts 7.9 s, 4.0 s). The big scans of the intermediate models gain from JIT and keep
    it. And, for a model whose meta has `postgres_work_mem` (fct_kpi_breakdowns), that
    `work_mem`: its sums hash millions of attribute combinations, which spilled to disk
    in 21 batches at the default 4MB (1M requests: the query 140 s, 112 s at 256MB; the
    fact tables gained nothing). `set local` ends with the transaction. No-op on
    DuckDB. -#}
{% macro planner_settings() -%}
    {{ return(adapter.dispatch('planner_settings', 'kpi_engine')()) }}
{%- endmacro %}

{% macro default__planner_settings() -%}
{%- endmacro %}

{% macro postgres__planner_settings() -%}
    set local enable_nestloop = off;
    set local enable_mergejoin = off
    {%- if not (config.get('meta') or {}).get('postgres_jit', true) %};
    set local jit = off
    {%- endif %}
    {%- if (config.get('meta') or {}).get('postgres_work_mem') %};
    set local work_mem = '{{ config.get('meta')['postgres_work_mem'] }}'
    {%- endif %}
{%- endmacro %}
