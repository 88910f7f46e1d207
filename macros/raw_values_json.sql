{#- A raw row as readable text: a JSON object of every column in `column_names` as text
    (null as null), kept with each rejected row so nothing of it is lost. -#}
{% macro raw_values_json(column_names) -%}
    '{'
    {%- for column_name in column_names %}
        || '{{ "," if not loop.first }}"{{ column_name }}":' || coalesce('"' || replace(replace(cast({{ column_name }} as {{ dbt.type_string() }}), '\', '\\'), '"', '\"') || '"', 'null')
    {%- endfor %}
        || '}'
{%- endmacro %}
