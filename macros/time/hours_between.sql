{#- Exact elapsed hours between two timestamps (seconds / 3600), never a count of
    hour boundaries as dbt.datediff would give. -#}
{% macro hours_between(start_timestamp, end_timestamp) -%}
    {{ return(adapter.dispatch('hours_between', 'kpi_engine')(start_timestamp, end_timestamp)) }}
{%- endmacro %}

{% macro default__hours_between(start_timestamp, end_timestamp) -%}
    (cast(extract(epoch from (({{ end_timestamp }}) - ({{ start_timestamp }}))) as {{ type_double() }}) / 3600.0)
{%- endmacro %}

{#- Spark: no epoch of an interval; the difference of the microseconds since the epoch,
    as exact seconds (a decimal) then a double, as PostgreSQL's numeric epoch. -#}
{% macro spark__hours_between(start_timestamp, end_timestamp) -%}
    (cast((unix_micros({{ end_timestamp }}) - unix_micros({{ start_timestamp }})) / 1000000.0 as double) / 3600.0)
{%- endmacro %}
