{#- A wall-clock time in an IANA timezone as a UTC timestamp (without time zone). -#}
{% macro local_to_utc(local_timestamp, timezone) -%}
    {{ return(adapter.dispatch('local_to_utc', 'kpi_engine')(local_timestamp, timezone)) }}
{%- endmacro %}

{% macro default__local_to_utc(local_timestamp, timezone) -%}
    cast((({{ local_timestamp }}) at time zone {{ timezone }}) at time zone 'UTC' as timestamp)
{%- endmacro %}

{#- Spark: to_utc_timestamp, per row (see spark__utc_to_local). A wall-clock time in a
    DST gap moves forward by the gap, as on PostgreSQL; one that occurs twice (the hour a
    DST period ends) is read in the earlier offset (Java's rule). -#}
{% macro spark__local_to_utc(local_timestamp, timezone) -%}
    to_utc_timestamp({{ local_timestamp }}, {{ timezone }})
{%- endmacro %}
