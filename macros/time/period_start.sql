{#- Start date of the period of `grain` (DAILY | WEEKLY | MONTHLY, a SQL string literal or
    a plain word) containing a local date. Weeks start on Monday (ISO). -#}
{% macro period_start(datepart, local_date) -%}
    cast({{ dbt.date_trunc(datepart, 'cast(' ~ local_date ~ ' as timestamp)') }} as date)
{%- endmacro %}
