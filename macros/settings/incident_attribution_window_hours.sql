{#- The attribution window of incidents without an explicit deployment link (README,
    DORA): var `incident_attribution_window_hours` (default null in dbt_project.yml:
    explicit links only). A whole number of hours from 0 to 8784, or none. -#}
{% macro incident_attribution_window_hours() -%}
    {%- set given = var('incident_attribution_window_hours', none) -%}
    {%- set raw_value = '' if given is none else given | string | trim -%}
    {%- if raw_value in ('', 'none', 'None', 'null') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]{1,4}$', raw_value) or raw_value | int > 8784 -%}
        {{ exceptions.raise_compiler_error("Invalid value for 'incident_attribution_window_hours': " ~ (raw_value | tojson) ~ ". Expected a whole number of hours from 0 to 8784, or null (explicit links only).") }}
    {%- endif -%}
    {{ return(raw_value | int) }}
{%- endmacro %}
