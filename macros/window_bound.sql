{#- The recompute window's bounds as SQL timestamp literals (UTC): `min_date` (inclusive)
    and `max_date` (exclusive), validated as dates. -#}
{% macro window_bound(var_name) -%}
    {%- set raw_value = var(var_name) | string | trim -%}
    {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2}$', raw_value) -%}
        {{ exceptions.raise_compiler_error("Invalid value for '" ~ var_name ~ "': " ~ (raw_value | tojson) ~ ". Expected a date such as 2024-01-31.") }}
    {%- endif -%}
    {%- set parsed = parse_utc_timestamp(raw_value, var_name) -%}
    cast('{{ parsed.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
{%- endmacro %}
