{#- Exact elapsed hours between two timestamps (seconds / 3600), never a count of
    hour boundaries as dbt.datediff would give. -#}
{% macro hours_between(start_timestamp, end_timestamp) -%}
    (cast(extract(epoch from (({{ end_timestamp }}) - ({{ start_timestamp }}))) as {{ type_double() }}) / 3600.0)
{%- endmacro %}
