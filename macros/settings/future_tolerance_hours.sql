{#- How far after as_of (in hours) a raw creation or start time may lie before the row is
    rejected as "in the future": var `future_tolerance_hours`, else env
    KPI_FUTURE_TOLERANCE_HOURS, else 1. A whole number from 0 to 8784. Rows within the
    tolerance are kept and simply not counted until as_of reaches them. -#}
{% macro future_tolerance_hours() -%}
    {%- set from_var = var('future_tolerance_hours', '') -%}
    {#- read as text so that a var of 0 is 0, not "unset" -#}
    {%- set from_var = '' if from_var is none else from_var | string | trim -%}
    {%- set raw_value = from_var or (env_setting('KPI_FUTURE_TOLERANCE_HOURS') | trim) or '1' -%}
    {%- if not modules.re.match('^[0-9]{1,4}$', raw_value) or raw_value | int > 8784 -%}
        {{ exceptions.raise_compiler_error("Invalid value for 'future_tolerance_hours': " ~ (raw_value | tojson) ~ ". Expected a whole number of hours from 0 to 8784.") }}
    {%- endif -%}
    {{ return(raw_value | int) }}
{%- endmacro %}
