{#- A bound of the recompute window as a naive UTC datetime: `min_date` (inclusive) or
    `max_date` (exclusive). The value comes from the var when set, else from env
    KPI_MIN_DATE / KPI_MAX_DATE (what Dagster passes: env vars keep dbt's partial parsing,
    a changed --vars does not), else the whole range (1900-01-01, 9999-12-31). Validated
    as a date. Late data: when a min_date is given, the window starts lookback_days() days
    before it (default 3), so every run with a window also recomputes the periods touched
    by the days just before it; a run without a window is everything anyway. -#}
{% macro window_instant(var_name) -%}
    {%- set defaults = {'min_date': '1900-01-01', 'max_date': '9999-12-31'} -%}
    {%- set given = (var(var_name, '') or env_setting('KPI_' ~ var_name | upper)) | string | trim -%}
    {%- set raw_value = given or defaults[var_name] -%}
    {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2}$', raw_value) -%}
        {{ exceptions.raise_compiler_error("Invalid value for '" ~ var_name ~ "': " ~ (raw_value | tojson) ~ ". Expected a date such as 2024-01-31.") }}
    {%- endif -%}
    {%- set parsed = parse_utc_timestamp(raw_value, var_name) -%}
    {%- if var_name == 'min_date' and given -%}
        {%- set days_available = (parsed - modules.datetime.datetime(1, 1, 1)).days -%}
        {%- set parsed = parsed - modules.datetime.timedelta(days=[lookback_days(), days_available] | min) -%}
    {%- endif -%}
    {{ return(parsed) }}
{%- endmacro %}
