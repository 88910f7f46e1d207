{#- Pre-hook of the incremental intermediate models keyed by request. On a windowed run
    (see reprocess_window_start), deletes the rows of the requests this run reprocesses
    (int_service_requests__changed), and those matching `also` (a SQL condition, e.g. the
    rows without a request key, which are always reprocessed), so the model's insert
    replaces them. On an incremental run without window, empties the table: the model's
    insert recomputes every row. Nothing on a first build. It runs in the model's
    transaction. -#}
{% macro delete_changed_requests(also=none) -%}
    {%- if reprocess_window_start() is not none -%}
        delete from {{ this }}
        where sr_id in (select sr_id from {{ ref('int_service_requests__changed') }})
        {%- if also %}
            or {{ also }}
        {%- endif %}
    {%- else -%}
        {{ empty_table_on_full_run() }}
    {%- endif -%}
{%- endmacro %}
