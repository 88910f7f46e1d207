{#- A raw row as readable text: a JSON object of every column in `column_names` as text
    (null as null), kept with each rejected row so nothing of it is lost. `prefix` is
    prepended to each column name to read it (the raw copies are `raw_<column>`), the
    JSON keys are the raw table's column names. -#}
{% macro raw_values_json(column_names, prefix='') -%}
    {{ return(adapter.dispatch('raw_values_json', 'kpi_engine')(column_names, prefix)) }}
{%- endmacro %}

{% macro default__raw_values_json(column_names, prefix='') -%}
    '{'
    {%- for column_name in column_names %}
        || '{{ "," if not loop.first }}"{{ column_name }}":' || coalesce('"' || replace(replace(cast({{ prefix ~ column_name }} as {{ dbt.type_string() }}), '\', '\\'), '"', '\"') || '"', 'null')
    {%- endfor %}
        || '}'
{%- endmacro %}

{#- Spark: the same text; a backslash in a Spark string literal is an escape character, so
    the literals double theirs. -#}
{% macro spark__raw_values_json(column_names, prefix='') -%}
    '{'
    {%- for column_name in column_names %}
        || '{{ "," if not loop.first }}"{{ column_name }}":' || coalesce('"' || replace(replace(cast({{ prefix ~ column_name }} as {{ dbt.type_string() }}), '\\', '\\\\'), '"', '\\"') || '"', 'null')
    {%- endfor %}
        || '}'
{%- endmacro %}
