{#- Pre-hook of fct_kpi_values: on an incremental run, deletes every row of the tenant
    periods overlapping the recompute window [min_date, max_date), so the run replaces them
    (a KPI disabled since the last run leaves no stale row). Runs in the model's
    transaction, so readers see the old rows or the new ones. -#}
{% macro delete_kpi_window() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where (tenant_id, grain, period_start) in (
            select tenant_id, grain, period_start
            from {{ ref('int_tenants__periods') }}
            where period_end_at > {{ window_bound('min_date') }}
                and period_start_at < {{ window_bound('max_date') }}
        )
    {%- endif -%}
{%- endmacro %}
