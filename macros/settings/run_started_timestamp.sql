{#- The start of this dbt run as a SQL timestamp literal (UTC, without time zone, to the
    microsecond): the same value for every node of the run, whatever as_of says (when a
    row was recorded, not what it describes; marts.kpi_status_history.seen_at). -#}
{% macro run_started_timestamp() -%}
    cast('{{ run_started_at.replace(tzinfo=none).strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
