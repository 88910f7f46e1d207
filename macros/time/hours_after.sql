{#- The timestamp `hours` (a double, fractions allowed) after a timestamp, to the whole
    microsecond (the timestamps' resolution): the inverse of hours_between. Through
    dbt.dateadd in whole seconds, then the microseconds left (DuckDB's intervals take a
    32-bit count: a count of microseconds overflows past 35 minutes). -#}
{% macro hours_after(start_timestamp, hours) -%}
    {%- set microseconds = 'cast(round((' ~ hours ~ ') * 3600000000.0) as bigint)' -%}
    {%- set seconds = 'cast(floor(cast(' ~ microseconds ~ ' as ' ~ type_double() ~ ') / 1000000.0) as bigint)' -%}
    {{ dbt.dateadd(
        'microsecond',
        '(' ~ microseconds ~ ' - ' ~ seconds ~ ' * 1000000)',
        dbt.dateadd('second', seconds, start_timestamp)
    ) }}
{%- endmacro %}
