{#- The first day of the period of `grain` (DAILY | WEEKLY | MONTHLY) holding `day`, a
    Python date, at compile time (weeks start on Monday, ISO, as period_start's SQL). -#}
{% macro period_start_date(grain, day) -%}
    {%- if grain == 'WEEKLY' -%}
        {{ return(day - modules.datetime.timedelta(days=day.weekday())) }}
    {%- elif grain == 'MONTHLY' -%}
        {{ return(day.replace(day=1)) }}
    {%- endif -%}
    {{ return(day) }}
{%- endmacro %}
