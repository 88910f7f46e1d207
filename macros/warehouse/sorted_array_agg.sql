{#- An aggregate: the values of `expression` of the group as an array in ascending order
    (nulls dropped), read with array_element. Used for continuous percentiles, whose
    built-in forms (percentile_cont, quantile_cont, percentile) either need a constant
    fraction or are not windows: one sort per group instead of a window ranking every
    value. Dispatched. -#}
{% macro sorted_array_agg(expression) -%}
    {{ return(adapter.dispatch('sorted_array_agg', 'kpi_engine')(expression)) }}
{%- endmacro %}

{% macro default__sorted_array_agg(expression) -%}
    array_agg({{ expression }} order by {{ expression }}) filter (where {{ expression }} is not null)
{%- endmacro %}

{% macro duckdb__sorted_array_agg(expression) -%}
    list({{ expression }} order by {{ expression }}) filter (where {{ expression }} is not null)
{%- endmacro %}

{% macro spark__sorted_array_agg(expression) -%}
    array_sort(collect_list({{ expression }}))
{%- endmacro %}
