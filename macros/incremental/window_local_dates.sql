{#- The local dates a run with a recompute window must read measurements from, for the
    periods of `grain` (DAILY | WEEKLY | MONTHLY) it recomputes: a dict with `lower`, the
    start of the grain's period holding the day before the window's start, and `upper`,
    the end of the period holding the day after the window's end, as 'YYYY-MM-DD' strings
    (none when that side of the window is open). A day of margin on each side covers every
    timezone (local dates are at most a day from UTC dates), so every period overlapping
    the window in any tenant's timezone lies within [lower, upper). Both are the starts of
    periods of the grain, the same for every tenant (periods follow the calendar). -#}
{% macro window_local_dates(grain) -%}
    {%- set day = modules.datetime.timedelta(days=1) -%}
    {%- set result = {'lower': none, 'upper': none} -%}
    {%- if has_recompute_window('min_date') -%}
        {%- set first = period_start_date(grain, (window_instant('min_date') - day).date()) -%}
        {%- do result.update({'lower': first.isoformat()}) -%}
    {%- endif -%}
    {%- set given_max = (var('max_date', '') or env_setting('KPI_MAX_DATE')) | string | trim -%}
    {%- if given_max -%}
        {#- the window's last day, plus a day of margin -#}
        {%- set last = window_instant('max_date').date() -%}
        {%- if grain == 'DAILY' -%}
            {%- set after = last + day -%}
        {%- elif grain == 'WEEKLY' -%}
            {%- set after = last - modules.datetime.timedelta(days=last.weekday()) + modules.datetime.timedelta(days=7) -%}
        {%- else -%}
            {%- set after = (last.replace(day=28) + modules.datetime.timedelta(days=4)).replace(day=1) -%}
        {%- endif -%}
        {%- do result.update({'upper': after.isoformat()}) -%}
    {%- endif -%}
    {{ return(result) }}
{%- endmacro %}
