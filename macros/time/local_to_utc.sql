{#- A wall-clock time in an IANA timezone as a UTC timestamp (without time zone). -#}
{% macro local_to_utc(local_timestamp, timezone) -%}
    {{ return(adapter.dispatch('local_to_utc', 'kpi_engine')(local_timestamp, timezone)) }}
{%- endmacro %}

{% macro default__local_to_utc(local_timestamp, timezone) -%}
    cast((({{ local_timestamp }}) at time zone {{ timezone }}) at time zone 'UTC' as timestamp)
{%- endmacro %}
