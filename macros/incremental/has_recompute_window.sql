{#- True when this run was given a recompute window: `bound` 'min_date' (what reprocesses
    requests) or 'any' (min_date or max_date: what restricts the recomputed periods), from
    the vars or, at execution, env KPI_MIN_DATE / KPI_MAX_DATE (see window_bound). -#}
{% macro has_recompute_window(bound='any') -%}
    {%- set names = ['min_date'] if bound == 'min_date' else ['min_date', 'max_date'] -%}
    {%- for name in names -%}
        {%- if (var(name, '') or env_setting('KPI_' ~ name | upper)) | string | trim != '' -%}
            {{ return(true) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}
