{#- Parses an ISO-8601 timestamp given by a user (var or env) into a naive UTC datetime.
    Accepts 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM[:SS[.ffffff]]', a 'T' separator, and a 'Z' or
    '+HH:MM' offset (converted to UTC). Anything else stops the build with a clear error,
    so no user text ever reaches SQL. -#}
{% macro parse_utc_timestamp(raw_value, var_name) -%}
    {%- set text = raw_value | string | trim -%}
    {%- set pattern = '^(\\d{4})-(\\d{2})-(\\d{2})(?:[T ](\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,6}))?)?)?(Z|[+-]\\d{2}:?\\d{2})?$' -%}
    {%- set match = modules.re.match(pattern, text) -%}
    {%- if not match -%}
        {{ exceptions.raise_compiler_error("Invalid value for '" ~ var_name ~ "': " ~ (text | tojson) ~ ". Expected an ISO timestamp such as 2024-01-31T23:00:00Z.") }}
    {%- endif -%}
    {%- set groups = match.groups() -%}
    {%- set fraction = (groups[6] or '0') -%}
    {%- set micro = (fraction ~ '000000')[:6] | int -%}
    {%- set ok = (groups[1] | int) >= 1 and (groups[1] | int) <= 12 and (groups[2] | int) >= 1 and (groups[2] | int) <= 31 and (groups[3] or '0') | int < 24 and (groups[4] or '0') | int < 60 and (groups[5] or '0') | int < 60 -%}
    {%- if not ok -%}
        {{ exceptions.raise_compiler_error("Invalid value for '" ~ var_name ~ "': " ~ (text | tojson) ~ " is not a real date and time.") }}
    {%- endif -%}
    {%- set parsed = modules.datetime.datetime(groups[0] | int, groups[1] | int, groups[2] | int, (groups[3] or '0') | int, (groups[4] or '0') | int, (groups[5] or '0') | int, micro) -%}
    {%- if groups[7] and groups[7] != 'Z' -%}
        {%- set offset = groups[7] | replace(':', '') -%}
        {%- set sign = -1 if offset[0] == '-' else 1 -%}
        {%- set minutes = (offset[1:3] | int) * 60 + (offset[3:5] | int) -%}
        {%- set parsed = parsed - modules.datetime.timedelta(minutes=sign * minutes) -%}
    {%- endif -%}
    {{ return(parsed) }}
{%- endmacro %}
