{#- The rejection rate (% of a raw table's rows) above which the rejection_rate_within
    test warns: var `rejection_rate_warn_pct`, else env KPI_REJECTION_RATE_WARN_PCT, else
    1. A number from 0 to 100. -#}
{% macro rejection_rate_warn_pct() -%}
    {%- set raw_value = (
        var('rejection_rate_warn_pct', '') or env_var('KPI_REJECTION_RATE_WARN_PCT', '') or '1'
    ) | string | trim -%}
    {%- if not modules.re.match('^[0-9]{1,3}(\\.[0-9]{1,4})?$', raw_value) or raw_value | float > 100 -%}
        {{ exceptions.raise_compiler_error("Invalid value for 'rejection_rate_warn_pct': " ~ (raw_value | tojson) ~ ". Expected a percentage from 0 to 100, such as 1 or 0.5.") }}
    {%- endif -%}
    {{ return(raw_value) }}
{%- endmacro %}
