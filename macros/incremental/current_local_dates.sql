{#- The local dates a run must read measurements from for the period of `grain` (DAILY |
    WEEKLY | MONTHLY) holding as_of, in every tenant's timezone: a dict as
    window_local_dates returns, `lower` the start of the grain's period holding the day
    before as_of's UTC date (local dates are at most a day from UTC dates), `upper` none
    (no measurement lies after as_of). -#}
{% macro current_local_dates(grain) -%}
    {%- set first = period_start_date(grain, (as_of_instant() - modules.datetime.timedelta(days=1)).date()) -%}
    {{ return({'lower': first.isoformat(), 'upper': none}) }}
{%- endmacro %}
