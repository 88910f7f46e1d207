{#- on-run-start hook (dbt_project.yml): checks every var and env value that reaches SQL
    (raw_schema, as_of, min_date, max_date, lookback_days, default_timezone, kpi_only,
    future_tolerance_hours, rejection_rate_warn_pct, incident_attribution_window_hours,
    dora_benchmark_set, reader_role, tenant_role_prefix)
    before any node runs, so `dbt build`, `run`, `seed`, `test` or `source freshness`
    with a bad value stops with a clear "Invalid value for ..." error and no SQL at all.
    The macros that use the values check them again. Returns no SQL. -#}
{% macro validate_vars() -%}
    {%- do raw_schema() -%}
    {%- do as_of_timestamp() -%}
    {%- do window_bound('min_date') -%}
    {%- do window_bound('max_date') -%}
    {%- do lookback_days() -%}
    {%- do default_timezone() -%}
    {%- do kpi_selection('kpi_name') -%}
    {%- do future_tolerance_hours() -%}
    {%- do rejection_rate_warn_pct() -%}
    {%- do incident_attribution_window_hours() -%}
    {%- do dora_benchmark_set() -%}
    {%- do access_roles() -%}
    {{- return('') -}}
{%- endmacro %}
