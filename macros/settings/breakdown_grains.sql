{#- var breakdown_grains, validated: the grains (upper case, of DAILY, WEEKLY, MONTHLY, at
    least one) at which fct_kpi_breakdowns has every KPI's slices in every period. -#}
{% macro breakdown_grains() -%}
    {%- set grains = [] -%}
    {%- for grain in var('breakdown_grains') -%}
        {%- if (grain | string | upper) not in ['DAILY', 'WEEKLY', 'MONTHLY'] -%}
            {{ exceptions.raise_compiler_error("var breakdown_grains: unknown grain " ~ (grain | tojson) ~ " (DAILY, WEEKLY or MONTHLY)") }}
        {%- endif -%}
        {%- do grains.append(grain | string | upper) -%}
    {%- endfor -%}
    {%- if not grains -%}
        {{ exceptions.raise_compiler_error("var breakdown_grains: at least one of DAILY, WEEKLY, MONTHLY") }}
    {%- endif -%}
    {{ return(grains) }}
{%- endmacro %}
