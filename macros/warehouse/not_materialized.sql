{#- Written between a CTE's `as` and its parenthesis, for a CTE that several steps read
    and that is cheaper to read again than to copy: a filtered read of a big table. Both
    PostgreSQL (12+) and DuckDB materialize a CTE read more than once by default: they
    compute it whole, keep the copy (on disk past work_mem, on PostgreSQL) and let each
    reader scan the copy, so a reader's own filter and columns never reach the table.
    `not materialized` inlines it into each reader instead (1M requests, PostgreSQL:
    open_request_aging, whose status timeline two steps read, took 7.3 s, 4.9 s with it
    inlined). Not for a CTE with a join or an aggregate worth computing once. Spark has
    no such keyword (and inlines a CTE by itself when that is cheap): empty there. -#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'kpi_engine')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro spark__not_materialized() -%}
{%- endmacro %}
