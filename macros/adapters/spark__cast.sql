{#- Replaces dbt's cast on Spark: the type goes through spark_data_type first, so the
    contracts of the marts (yml data_type text, double precision) build their empty
    schema (get_empty_schema_sql) with types Spark's parser knows. -#}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ spark_data_type(type) }})
{%- endmacro %}
