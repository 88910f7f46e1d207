{#- The relation a table model reads its own previous build from (rejected_raw_rows keeps
    its rows' first_seen_at), given `relation`, the model's table as it exists now (none
    when it does not). PostgreSQL and DuckDB: the table itself, since dbt builds the new
    table beside the old one and swaps them. Spark: dbt-spark drops a plain Parquet table
    before it creates the new one (no create or replace without Delta Lake), so the
    previous rows are first copied into <name>__dbt_previous, which the model reads; the
    copy stays until the next build replaces it. Runs SQL only when dbt executes. -#}
{% macro previous_build(relation) -%}
    {{ return(adapter.dispatch('previous_build', 'kpi_engine')(relation)) }}
{%- endmacro %}

{% macro default__previous_build(relation) -%}
    {{ return(relation) }}
{%- endmacro %}

{% macro spark__previous_build(relation) -%}
    {%- if relation is none or not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set copy = relation.incorporate(path={'identifier': relation.identifier ~ '__dbt_previous'}) -%}
    {%- do run_query('drop table if exists ' ~ copy) -%}
    {%- do run_query('create table ' ~ copy ~ ' using parquet as select * from ' ~ relation) -%}
    {{ return(copy) }}
{%- endmacro %}
