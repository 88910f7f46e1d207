{#- The rejection rate (% of a raw table's rows) above which the rejection_rate_within
    test warns: var `rejection_rate_warn_pct` (default 1 in dbt_project.yml). A number
    from 0 to 100. -#}
{% macro rejection_rate_warn_pct() -%}
    {%- set given = var('rejection_rate_warn_pct', 1) -%}
    {%- set raw_value = '' if given is none else given | string | trim -%}
    {%- if not modules.re.match('^[0-9]{1,3}(\\.[0-9]{1,4})?$', raw_value) or raw_value | float > 100 -%}
        {{ exceptions.raise_compiler_error("Invalid value for 'rejection_rate_warn_pct': " ~ (raw_value | tojson) ~ ". Expected a percentage from 0 to 100, such as 1 or 0.5.") }}
    {%- endif -%}
    {{ return(raw_value) }}
{%- endmacro %}
