{#- The rejection rate (% of a raw table's rows) above which the rejection_rate_within
    test warns: var `rejection_rate_warn_pct`, else env KPI_REJECTION_RATE_WARN_PCT, else
    1. A number from 0 to 100. -#}
{% macro rejection_rate_warn_pct() -%}
    {%- set from_var = var('rejection_rate_warn_pct', '') -%}
    {#- read as text so that a var of 0 is 0, not "unset" -#}
    {%- set from_var = '' if from_var is none else from_var | string | trim -%}
    {%- set raw_value = from_var or (env_setting('KPI_REJECTION_RATE_WARN_PCT') | trim) or '1' -%}
    {%- if not modules.re.match('^[0-9]{1,3}(\\.[0-9]{1,4})?$', raw_value) or raw_value | float > 100 -%}
        {{ exceptions.raise_compiler_error("Invalid value for 'rejection_rate_warn_pct': " ~ (raw_value | tojson) ~ ". Expected a percentage from 0 to 100, such as 1 or 0.5.") }}
    {%- endif -%}
    {{ return(raw_value) }}
{%- endmacro %}
