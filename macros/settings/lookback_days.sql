{#- The late-data lookback in days, as an integer: var `lookback_days` (default 3 in
    dbt_project.yml). A run given a recompute window starts that window this many
    days earlier (see window_bound), so events and resolutions that arrived late for the
    last days are picked up by the next scheduled run. Validated: a whole number from 0
    to 366, so no text reaches SQL. -#}
{% macro lookback_days() -%}
    {%- set given = var('lookback_days', 3) -%}
    {%- set raw_value = '' if given is none else given | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]{1,3}', raw_value) or raw_value | int > 366 -%}
        {{ exceptions.raise_compiler_error("Invalid value for 'lookback_days': " ~ (raw_value | tojson) ~ ". Expected a whole number of days from 0 to 366.") }}
    {%- endif -%}
    {{ return(raw_value | int) }}
{%- endmacro %}
