{#- The project's one incremental strategy, `replace` (`incremental_strategy='replace'`):
    in the model's transaction, deletes the rows of the target that the run recomputes
    (replaced_rows: the model's `meta.replace_scope`, see that macro) and inserts the
    model's new rows (computed first into a temporary table by the incremental
    materialization, so readers wait for nothing while the SQL runs). Unlike dbt's
    `delete+insert`, the rows deleted are those of the run's scope, not only the keys the
    new rows carry: a request whose measurement disappeared, a KPI disabled since the last
    run, leaves no stale row. The same idea as dbt-databricks' `replace_where`.
    Called by dbt with the strategy's argument dict (target_relation, temp_relation,
    dest_columns...). -#}
{% macro get_incremental_replace_sql(arg_dict) -%}
    {{ return(adapter.dispatch('get_incremental_replace_sql', 'kpi_engine')(arg_dict)) }}
{%- endmacro %}

{% macro default__get_incremental_replace_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set predicate = replaced_rows(target) -%}
    delete from {{ target }}
    where {{ predicate }};

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{#- PostgreSQL: first a lock that conflicts with other writers, not with readers (SHARE
    ROW EXCLUSIVE), held to the end of the transaction: two runs whose scopes overlap (a
    scheduled run and a manual backfill) take turns instead of both deleting the old rows
    and both inserting theirs. A run that replaces every row of an intermediate table
    (meta `replace_all_by_truncate`) truncates it: no dead rows left for vacuum (truncate
    locks readers out until commit, so marts never use it). -#}
{% macro postgres__get_incremental_replace_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set predicate = replaced_rows(target) -%}
    lock table {{ target }} in share row exclusive mode;

    {% if predicate == '1 = 1' and (config.get('meta') or {}).get('replace_all_by_truncate') -%}
    truncate table {{ target }};
    {%- else -%}
    delete from {{ target }}
    where {{ predicate }};
    {%- endif %}

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{#- Spark (plain Parquet tables, no Delta Lake: no DELETE, no MERGE): the table is
    rewritten whole, correct if slower than a delete. The rows kept (those the replaced
    rows' condition is not true for: the complement of what a DELETE removes) and the new
    rows (the temporary view of the model) are written into <target>__dbt_replace, which
    then overwrites the target (`insert overwrite`: Spark cannot overwrite a table in the
    statement that reads it), and is dropped (the statement returned, dbt's `main`). A run
    that replaces every row writes only the new rows. Runs its first two statements
    itself: dbt-spark executes one statement per call. Called through the overridden
    dbt_spark_get_incremental_sql (macros/adapters). -#}
{% macro spark__get_incremental_replace_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set predicate = replaced_rows(target) -%}
    {%- set rebuilt = target.incorporate(path={'identifier': target.identifier ~ '__dbt_replace'}) -%}
    {%- if execute -%}
        {%- do run_query('drop table if exists ' ~ rebuilt) -%}
        {%- set rows -%}
            create table {{ rebuilt }} using parquet as
            {% if predicate != '1 = 1' -%}
            select {{ columns }}
            from {{ target }}
            where ({{ predicate }}) is not true
            union all
            {% endif -%}
            select {{ columns }}
            from {{ arg_dict['temp_relation'] }}
        {%- endset -%}
        {%- do run_query(rows) -%}
        {%- do run_query('insert overwrite table ' ~ target ~ ' select ' ~ columns ~ ' from ' ~ rebuilt) -%}
    {%- endif -%}
    drop table if exists {{ rebuilt }}
{%- endmacro %}
