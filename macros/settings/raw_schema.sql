{#- The var `raw_schema` (schema of the raw ITSM tables, read by the sources in
    _itsm__sources.yml), after checking it is a plain identifier (a letter or '_', then
    letters, digits or '_', at most 63 characters), so no text can reach SQL. The sources
    yml cannot call macros: validate_vars() runs this check at the start of every run. -#}
{% macro raw_schema() -%}
    {%- set value = var('raw_schema', 'raw') | string -%}
    {%- if not modules.re.fullmatch('[A-Za-z_][A-Za-z0-9_]{0,62}', value) -%}
        {{ exceptions.raise_compiler_error("Invalid value for 'raw_schema': " ~ (value | tojson) ~ ". Expected a plain schema name such as raw (letters, digits and _).") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
