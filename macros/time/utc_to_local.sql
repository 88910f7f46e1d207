{#- A UTC timestamp (without time zone) as wall-clock time in an IANA timezone. -#}
{% macro utc_to_local(utc_timestamp, timezone) -%}
    {{ return(adapter.dispatch('utc_to_local', 'kpi_engine')(utc_timestamp, timezone)) }}
{%- endmacro %}

{% macro default__utc_to_local(utc_timestamp, timezone) -%}
    cast((({{ utc_timestamp }}) at time zone 'UTC') at time zone {{ timezone }} as timestamp)
{%- endmacro %}

{#- Spark: from_utc_timestamp, per row (the timezone may be a column); Spark's timestamp
    is an instant shown in the session time zone, pinned to UTC (profiles.yml), so the
    result reads as the wall-clock time. -#}
{% macro spark__utc_to_local(utc_timestamp, timezone) -%}
    from_utc_timestamp({{ utc_timestamp }}, {{ timezone }})
{%- endmacro %}
