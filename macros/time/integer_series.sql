{#- A relation of integers 0 .. 10^digits - 1 in column `n`, portable (cross-joined
    digits). 5 digits cover 273 years of days. -#}
{% macro integer_series(digits=5) -%}
    select
        {% for i in range(digits) -%}
        digit_{{ i }}.d * {{ 10 ** i }}{{ ' + ' if not loop.last else '' }}
        {%- endfor %} as n
    from
        {% for i in range(digits) -%}
        (select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
         union all select 5 union all select 6 union all select 7 union all select 8 union all select 9) as digit_{{ i }}
        {{- ',' if not loop.last else '' }}
        {% endfor %}
{%- endmacro %}
