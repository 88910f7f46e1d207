{#- A data type as the project writes it in yml (seed column_types, contract data_type:
    PostgreSQL's names, which DuckDB shares) in Spark SQL's words: text and varchar
    (without a length) are string, double precision is double, numeric(p, s) is
    decimal(p, s); any other name (bigint, integer, boolean, date, timestamp) is the same
    on Spark. Used by the Spark overrides spark__cast (the contracts' empty schema) and
    spark__create_csv_table (seeds), so the yml keeps one spelling for every engine. -#}
{% macro spark_data_type(data_type) -%}
    {%- set name = data_type | string | trim | lower -%}
    {%- set numeric = modules.re.fullmatch('numeric\\s*(\\(.*\\))?', name) -%}
    {%- if name in ('text', 'varchar', 'character varying') -%}
        {{ return('string') }}
    {%- elif name == 'double precision' -%}
        {{ return('double') }}
    {%- elif numeric -%}
        {{ return('decimal' ~ (numeric.group(1) or '')) }}
    {%- endif -%}
    {{ return(data_type) }}
{%- endmacro %}
