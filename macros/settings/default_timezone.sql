{#- The var `default_timezone` as a SQL string literal, after checking it looks like an
    IANA timezone name (letters, digits, '_', '+', '-', '/'), so no text can reach SQL. -#}
{% macro default_timezone() -%}
    {%- set value = var('default_timezone', 'UTC') | string | trim -%}
    {%- if not modules.re.match('^[A-Za-z][A-Za-z0-9_+\\-/]{0,63}$', value) -%}
        {{ exceptions.raise_compiler_error("Invalid value for 'default_timezone': " ~ (value | tojson) ~ ". Expected an IANA timezone name such as Europe/Paris.") }}
    {%- endif -%}
    '{{ value }}'
{%- endmacro %}
