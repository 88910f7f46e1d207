{#- The column list of the KPI fact tables (the fct_kpi_values contract), selected from
    `relation` (int_kpi__period_values or a grain fact table), with the run's as_of and
    calculation time; with `breakdowns`, the breakdown keys too (fct_kpi_breakdowns). -#}
{% macro kpi_fact_columns(relation, breakdowns=false) -%}
        -- keys
        {{ relation }}.tenant_id,
        {{ relation }}.kpi_name,
        {{ relation }}.grain,
        {{ relation }}.period_start,
        {%- if breakdowns %}
        {{ relation }}.breakdown,
        {{ relation }}.breakdown_value,
        {%- endif %}
        -- period
        {{ relation }}.period_end,
        {{ relation }}.is_complete,
        -- measures
        {{ relation }}.value,
        {{ relation }}.numerator,
        {{ relation }}.denominator,
        {{ relation }}.target,
        {{ relation }}.direction,
        {{ relation }}.achievement_pct,
        {{ relation }}.status,
        -- timestamps (UTC)
        {{ as_of_timestamp() }} as as_of,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as calculated_at
{%- endmacro %}
