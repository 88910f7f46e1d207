{#- Post-hook of every table model and seed: refreshes the table's planner statistics. PostgreSQL
    has none for a table dbt just created or refilled until autovacuum gets to it, and
    plans the next models' joins as if it held a few hundred rows (nested loops over
    millions of rows: the 1M benchmark's status timeline ran for minutes). No-op on
    DuckDB, whose statistics are always current, and on views. -#}
{% macro analyze_table() -%}
    {%- if config.get('materialized') in ('table', 'incremental', 'seed') -%}
        {{ return(adapter.dispatch('analyze_table', 'kpi_engine')(this)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__analyze_table(relation) -%}
{%- endmacro %}

{% macro postgres__analyze_table(relation) -%}
    analyze {{ relation }}
{%- endmacro %}
