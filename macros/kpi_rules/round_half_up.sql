{#- Rounds a double half away from zero on its decimal value, the same on every engine
    (PostgreSQL has no round(double, int); DuckDB rounds binary doubles). The value is
    first taken to 10 decimals, which absorbs binary floating-point error, so a computed
    97.24999999999999 (77.8 / 80 x 100) rounds as the 97.25 it stands for: 97.3.
    `decimals` is an integer or a column holding 0..6 (DuckDB needs constant precision,
    so a column expands into a CASE). -#}
{% macro round_half_up(value, decimals) -%}
    {%- if decimals is number or (decimals | string).isdigit() -%}
        cast(round(cast({{ value }} as numeric(38, 10)), {{ decimals }}) as {{ type_double() }})
    {%- else -%}
        case cast({{ decimals }} as integer)
            {%- for places in range(7) %}
            when {{ places }} then cast(round(cast({{ value }} as numeric(38, 10)), {{ places }}) as {{ type_double() }})
            {%- endfor %}
        end
    {%- endif -%}
{%- endmacro %}
