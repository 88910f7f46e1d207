{#- "Now" for a build as a naive UTC datetime (what as_of_timestamp() renders as SQL).
    Order: var `as_of`, then env KPI_AS_OF, then the run's start time. -#}
{% macro as_of_instant() -%}
    {%- set raw_value = var('as_of', '') or env_setting('KPI_AS_OF') -%}
    {%- if raw_value | string | trim == '' -%}
        {{ return(run_started_at.replace(tzinfo=none)) }}
    {%- endif -%}
    {{ return(parse_utc_timestamp(raw_value, 'as_of')) }}
{%- endmacro %}
