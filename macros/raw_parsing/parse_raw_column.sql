{#- A raw column as `kind` ('bigint' or 'timestamp'). A column already stored with that
    type (per `column_types`, from raw_column_types) is cast directly; any other (text,
    loaded by an EL tool) is parsed with safe_cast_bigint / safe_cast_timestamp, so a value
    that does not parse becomes null instead of failing the build (see
    raw_parse_failures). -#}
{% macro parse_raw_column(column_name, kind, column_types) -%}
    {%- if _raw_column_is_typed(column_name, kind, column_types) -%}
        cast({{ column_name }} as {{ kind }})
    {%- elif kind == 'bigint' -%}
        {{ safe_cast_bigint('cast(' ~ column_name ~ ' as ' ~ dbt.type_string() ~ ')') }}
    {%- elif kind == 'timestamp' -%}
        {{ safe_cast_timestamp('cast(' ~ column_name ~ ' as ' ~ dbt.type_string() ~ ')') }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("parse_raw_column: unknown kind " ~ kind) }}
    {%- endif -%}
{%- endmacro %}

{%- macro _raw_column_is_typed(column_name, kind, column_types) -%}
    {%- set dtype = column_types.get(column_name | lower, '') -%}
    {%- if kind == 'bigint' -%}
        {{ return(dtype in ('bigint', 'int8', 'integer', 'int4', 'int', 'smallint', 'int2', 'hugeint', 'tinyint', 'ubigint', 'uinteger')) }}
    {%- else -%}
        {{ return(dtype.startswith('timestamp') and 'with time zone' not in dtype and dtype not in ('timestamptz', 'timestamp with time zone')) }}
    {%- endif -%}
{%- endmacro %}
