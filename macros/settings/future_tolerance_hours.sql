{#- How far after as_of (in hours) a raw creation or start time may lie before the row is
    rejected as "in the future": var `future_tolerance_hours` (default 1 in
    dbt_project.yml). A whole number from 0 to 8784. Rows within the
    tolerance are kept and simply not counted until as_of reaches them. -#}
{% macro future_tolerance_hours() -%}
    {%- set given = var('future_tolerance_hours', 1) -%}
    {%- set raw_value = '' if given is none else given | string | trim -%}
    {%- if not modules.re.match('^[0-9]{1,4}$', raw_value) or raw_value | int > 8784 -%}
        {{ exceptions.raise_compiler_error("Invalid value for 'future_tolerance_hours': " ~ (raw_value | tojson) ~ ". Expected a whole number of hours from 0 to 8784.") }}
    {%- endif -%}
    {{ return(raw_value | int) }}
{%- endmacro %}
