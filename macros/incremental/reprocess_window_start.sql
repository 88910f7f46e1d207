{#- Where a windowed run of an incremental intermediate model starts reprocessing: the
    recompute window's start (min_date or env KPI_MIN_DATE, moved back by lookback_days;
    see window_bound) as a SQL timestamp literal, when the run has a window and the model
    already exists (is_incremental()); else none, and the model computes everything (also
    in a unit test, which has no relation).
    Those models reprocess only the requests int_service_requests__changed lists: a daily
    run costs what a day of new data costs, not what the whole history costs. -#}
{% macro reprocess_window_start() -%}
    {%- set given = (var('min_date', '') or env_setting('KPI_MIN_DATE')) | string | trim -%}
    {%- if given and this is not none and is_incremental() -%}
        {{ return(window_bound('min_date') | trim) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
