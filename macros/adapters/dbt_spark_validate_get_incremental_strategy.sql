{#- Replaces dbt-spark's check of a model's incremental strategy, which knows only its
    own (append, merge, insert_overwrite, microbatch): the project's `replace`
    (macros/incremental/get_incremental_replace_sql) is accepted on any file format; any
    other strategy goes to dbt-spark's check. -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy == 'replace' -%}
        {{ return(raw_strategy) }}
    {%- endif -%}
    {{ return(dbt.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) }}
{%- endmacro %}
