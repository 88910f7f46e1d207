{#- Replaces dbt-spark's choice of the SQL of an incremental run, which calls no custom
    strategy: `replace` goes to get_incremental_replace_sql (its spark__ variant), with
    the arguments dbt passes custom strategies on other adapters; any other strategy to
    dbt-spark's own macro. -#}
{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) -%}
    {%- if strategy == 'replace' -%}
        {{ get_incremental_replace_sql({
            'target_relation': target,
            'temp_relation': source,
            'unique_key': unique_key,
            'dest_columns': adapter.get_columns_in_relation(target),
            'incremental_predicates': incremental_predicates,
        }) }}
    {%- else -%}
        {{ dbt.dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) }}
    {%- endif -%}
{%- endmacro %}
