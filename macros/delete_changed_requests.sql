{#- Pre-hook of the incremental intermediate models keyed by request: on a windowed run
    (see reprocess_window_start), deletes the rows of the requests this run reprocesses
    (int_service_requests__changed), and those matching `also` (a SQL condition, e.g. the
    rows without a request key, which are always reprocessed), so the model's insert
    replaces them. Nothing on other runs (the model is rebuilt whole). It runs in the
    model's transaction: readers see the old rows or the new ones. -#}
{% macro delete_changed_requests(also=none) -%}
    {%- if reprocess_window_start() is not none -%}
        delete from {{ this }}
        where sr_id in (select sr_id from {{ ref('int_service_requests__changed') }})
        {%- if also %}
            or {{ also }}
        {%- endif %}
    {%- endif -%}
{%- endmacro %}
