{#- A bound of the recompute window as a SQL timestamp literal (UTC): `min_date`
    (inclusive) or `max_date` (exclusive). The value comes from the var when set, else
    from env KPI_MIN_DATE / KPI_MAX_DATE (what Dagster passes: env vars keep dbt's partial
    parsing, a changed --vars does not), else the whole range. Validated as a date. -#}
{% macro window_bound(var_name) -%}
    {%- set defaults = {'min_date': '1900-01-01', 'max_date': '9999-12-31'} -%}
    {%- set raw_value = (
        var(var_name, '') or env_var('KPI_' ~ var_name | upper, '') or defaults[var_name]
    ) | string | trim -%}
    {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2}$', raw_value) -%}
        {{ exceptions.raise_compiler_error("Invalid value for '" ~ var_name ~ "': " ~ (raw_value | tojson) ~ ". Expected a date such as 2024-01-31.") }}
    {%- endif -%}
    {%- set parsed = parse_utc_timestamp(raw_value, var_name) -%}
    cast('{{ parsed.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
{%- endmacro %}
