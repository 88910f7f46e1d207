{#- A bound of the recompute window as a SQL timestamp literal (UTC): `min_date`
    (inclusive) or `max_date` (exclusive); see window_instant for where the value comes
    from and the late-data lookback. -#}
{% macro window_bound(var_name) -%}
    cast('{{ window_instant(var_name).strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
{%- endmacro %}
