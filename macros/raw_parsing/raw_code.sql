{#- A raw code column (status, type, priority) normalised: surrounding spaces removed,
    upper case, empty as null, so ' done' is DONE. -#}
{% macro raw_code(column_name) -%}
    nullif(upper(trim(cast({{ column_name }} as {{ dbt.type_string() }}))), '')
{%- endmacro %}
