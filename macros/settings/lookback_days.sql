{#- The late-data lookback in days, as an integer: var `lookback_days`, else env
    KPI_LOOKBACK_DAYS, else 3. A run given a recompute window starts that window this many
    days earlier (see window_bound), so events and resolutions that arrived late for the
    last days are picked up by the next scheduled run. Validated: a whole number from 0
    to 366, so no text reaches SQL. -#}
{% macro lookback_days() -%}
    {%- set from_var = var('lookback_days', '') -%}
    {%- set from_var = '' if from_var is none else from_var | string | trim -%}
    {%- set raw_value = from_var or (env_setting('KPI_LOOKBACK_DAYS') | trim) or '3' -%}
    {%- if not modules.re.fullmatch('[0-9]{1,3}', raw_value) or raw_value | int > 366 -%}
        {{ exceptions.raise_compiler_error("Invalid value for 'lookback_days': " ~ (raw_value | tojson) ~ ". Expected a whole number of days from 0 to 366.") }}
    {%- endif -%}
    {{ return(raw_value | int) }}
{%- endmacro %}
