{#- Pre-hook of the incremental intermediate models: on an incremental run without window
    (kpi_full_refresh_job, a plain `dbt build`; see reprocess_window_start), empties the
    model's table, in its transaction, so its insert recomputes every row. Nothing on a
    windowed run or a first build. -#}
{% macro empty_table_on_full_run() -%}
    {%- if this is not none and is_incremental() and reprocess_window_start() is none -%}
        {{ empty_table(this) }}
    {%- endif -%}
{%- endmacro %}
