{#- A SQL condition on the columns of an intermediate `relation` selecting the rows a
    windowed run rewrote (what the __rows_of_this_run__ placeholder of its tests becomes,
    see get_where_subquery), by the model's name:
    - int_service_requests__*, int_sr_events__* and int_kpi__measurements: the requests
      the run reprocessed (int_service_requests__changed) and the rows without a request
      key (for the measurements: those not tied to a request, recomputed whole);
    - int_kpi__period_values: the periods ending after the window's start;
    - other int_kpi__* models: those measured from the window's start on;
    - anything else (int_kpi__daily_measures: one row per tenant, KPI and day, whatever
      the number of requests), and any run without window: `1 = 1` (every row). -#}
{% macro rows_of_this_run(relation) -%}
    {%- set given = (var('min_date', '') or env_setting('KPI_MIN_DATE')) | string | trim -%}
    {%- set name = relation.identifier | lower -%}
    {%- if not given -%}
        {{ return('1 = 1') }}
    {%- endif -%}
    {%- set start = window_bound('min_date') | trim -%}
    {%- if name.startswith('int_service_requests__') or name.startswith('int_sr_events__')
        or name == 'int_kpi__measurements' -%}
        {%- set changed = relation.incorporate(path={'identifier': 'int_service_requests__changed'}) -%}
        {{ return('(sr_id in (select sr_id from ' ~ changed ~ ') or sr_id is null)') }}
    {%- elif name == 'int_kpi__daily_measures' -%}
        {{ return('1 = 1') }}
    {%- elif name == 'int_kpi__period_values' -%}
        {{ return('period_end_at > ' ~ start) }}
    {%- elif name.startswith('int_kpi__') -%}
        {{ return('measured_at >= ' ~ start) }}
    {%- endif -%}
    {{ return('1 = 1') }}
{%- endmacro %}
