{#- No secondary index on DuckDB: the marts' `indexes` config is for PostgreSQL (README:
    "no index on DuckDB"), which dbt-duckdb honours since its index support
    (duckdb/dbt-duckdb#522). There an index breaks rebuilds with two threads: dbt-duckdb
    swaps a rebuilt table in by dropping its indexes and renaming it to <name>__dbt_backup
    inside the model's transaction, and until that commits, duckdb_indexes() fails in every
    other connection ("Table with name <name>__dbt_backup does not exist!"): the other
    connection still sees the dropped index, and DuckDB looks up the index's table by the
    name the uncommitted rename already changed. dbt-duckdb queries duckdb_indexes() before
    and after every swap (drop_indexes_on_relation), so two tables swapped at once failed
    the run. Replaces dbt-duckdb's version; the indexes earlier builds left are dropped by
    the on-run-start hook drop_model_indexes. -#}
{% macro duckdb__create_indexes(relation) -%}
{%- endmacro %}
