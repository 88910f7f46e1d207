{#- The SQL name of a 64-bit binary floating-point type, for explicit casts in every model:
    `double precision` (PostgreSQL, DuckDB), `double` on Spark, whose parser knows no
    `double precision`. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'kpi_engine')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
