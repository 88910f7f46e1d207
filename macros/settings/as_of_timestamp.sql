{#- "Now" for a build, as a SQL timestamp literal (UTC, without time zone): as_of_instant(),
    var `as_of`, then env KPI_AS_OF, then the run's start time. -#}
{% macro as_of_timestamp() -%}
    cast('{{ as_of_instant().strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
