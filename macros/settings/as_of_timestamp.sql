{#- "Now" for a build, as a SQL timestamp literal (UTC, without time zone).
    Order: var `as_of`, then env KPI_AS_OF, then the run's start time. -#}
{% macro as_of_timestamp() -%}
    {%- set raw_value = var('as_of', '') or env_setting('KPI_AS_OF') -%}
    {%- if raw_value | string | trim == '' -%}
        {%- set parsed = run_started_at.replace(tzinfo=none) -%}
    {%- else -%}
        {%- set parsed = parse_utc_timestamp(raw_value, 'as_of') -%}
    {%- endif -%}
    cast('{{ parsed.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
