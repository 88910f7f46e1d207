{#- on-run-start hook: on DuckDB, drops the secondary indexes that builds before
    duckdb__create_indexes left on the tables of this project's models, before any model
    runs and so before any thread swaps a table (an indexed table swapped in one thread
    makes duckdb_indexes() fail in the others, see duckdb__create_indexes). Once they are
    gone, one catalog query and no SQL. Indexes on tables that are not models (raw data)
    are left alone: dbt never renames those. No-op on PostgreSQL, whose indexes dbt
    manages. -#}
{% macro drop_model_indexes() -%}
    {{- return(adapter.dispatch('drop_model_indexes')()) -}}
{%- endmacro %}

{% macro default__drop_model_indexes() -%}
{%- endmacro %}

{% macro duckdb__drop_model_indexes() -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set model_tables = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
        {%- do model_tables.append(
            "('" ~ adapter.escape_sql_string(node.database | lower) ~ "', '"
            ~ adapter.escape_sql_string(node.schema | lower) ~ "', '"
            ~ adapter.escape_sql_string((node.alias or node.name) | lower) ~ "')") -%}
    {%- endfor -%}
    {%- if not model_tables -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set leftovers = run_query(
        "select database_name, schema_name, index_name from duckdb_indexes() "
        ~ "where (lower(database_name), lower(schema_name), lower(table_name)) in ("
        ~ model_tables | join(', ') ~ ") order by all") -%}
    {%- for index in leftovers.rows %}
drop index if exists {{ adapter.quote(index[0]) }}.{{ adapter.quote(index[1]) }}.{{ adapter.quote(index[2]) }};
    {%- endfor %}
{%- endmacro %}
