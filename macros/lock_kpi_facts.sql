{#- Pre-hook of the grain fact tables, to run before delete_kpi_window: on an incremental
    run, locks the fact table against other writers until the run's transaction ends. Two
    runs whose windows overlap (a scheduled run and a manual backfill) then take turns;
    without it, on PostgreSQL, both delete the old rows of the window (the second waiting
    on the first's row locks, then finding them gone), then both insert theirs: every row
    of the window twice. SHARE ROW EXCLUSIVE conflicts with writers, not with readers, so
    BI queries are not held up. DuckDB allows a single writing process anyway. -#}
{% macro lock_kpi_facts() -%}
    {{ return(adapter.dispatch('lock_kpi_facts', 'kpi_engine')()) }}
{%- endmacro %}

{% macro default__lock_kpi_facts() -%}
{%- endmacro %}

{% macro postgres__lock_kpi_facts() -%}
    {%- if is_incremental() -%}
        lock table {{ this }} in share row exclusive mode
    {%- endif -%}
{%- endmacro %}
