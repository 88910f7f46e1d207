{#- Exact elapsed seconds between two timestamps, a double (fractions are the
    microseconds): hours_between without the division. -#}
{% macro seconds_between(start_timestamp, end_timestamp) -%}
    {{ return(adapter.dispatch('seconds_between', 'kpi_engine')(start_timestamp, end_timestamp)) }}
{%- endmacro %}

{% macro default__seconds_between(start_timestamp, end_timestamp) -%}
    cast(extract(epoch from (({{ end_timestamp }}) - ({{ start_timestamp }}))) as {{ type_double() }})
{%- endmacro %}

{#- Spark: no epoch of an interval; the difference of the microseconds since the epoch. -#}
{% macro spark__seconds_between(start_timestamp, end_timestamp) -%}
    cast((unix_micros({{ end_timestamp }}) - unix_micros({{ start_timestamp }})) / 1000000.0 as double)
{%- endmacro %}
