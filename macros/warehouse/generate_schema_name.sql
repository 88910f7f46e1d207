{#- Custom schemas are used as-is (staging, intermediate, marts), not prefixed by the
    target schema, so every engine gets the same four schema names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
