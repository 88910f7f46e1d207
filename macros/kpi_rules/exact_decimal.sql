{#- `expression` (a double) as numeric(38, 12), for sums: a sum of doubles depends on the
    order rows are added (the last bits differ between two scans of the same rows, so
    reruns or two databases could disagree), a sum of decimals does not. Cast the sum
    back to double precision. 12 decimals keep far more than any KPI shows.
    int_kpi__measurements stores its numerator and denominator this way, so the sums'
    casts over them change nothing and cost nothing. -#}
{% macro exact_decimal(expression) -%}
    cast({{ expression }} as numeric(38, 12))
{%- endmacro %}
