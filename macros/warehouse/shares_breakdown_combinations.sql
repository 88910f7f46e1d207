{#- Whether the breakdowns' weeks and months add up their measurements in one shared pass
    (kpi_period_values' slice_combinations) rather than one pass each. PostgreSQL: yes,
    it materializes the CTE once and hashes 5.5 million measurements once instead of
    twice (1M requests: the breakdowns 104.7 s, now 91.2 s, of the full build). DuckDB:
    no, the per-grain passes are faster there (1M, the same day: 9.9 s per grain, 12.0 s
    shared), and Spark inlines a CTE read twice, so sharing would compute it twice. -#}
{% macro shares_breakdown_combinations() -%}
    {{ return(adapter.dispatch('shares_breakdown_combinations', 'kpi_engine')()) }}
{%- endmacro %}

{% macro default__shares_breakdown_combinations() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro postgres__shares_breakdown_combinations() -%}
    {{ return(true) }}
{%- endmacro %}
