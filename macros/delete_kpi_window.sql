{#- Pre-hook of the grain fact tables: on an incremental run, deletes the rows of every
    tenant period of `grain` overlapping the recompute window [min_date, max_date) (its
    start moved back by lookback_days, see window_bound), so the run replaces them (a KPI
    disabled since the last run leaves no stale row); only the KPIs of kpi_selection()
    when a run is restricted to some. It runs in the model's transaction: readers see the
    old rows or the new ones. -#}
{% macro delete_kpi_window(grain) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ kpi_selection('kpi_name') }}
            and (tenant_id, grain, period_start) in (
            select tenant_id, grain, period_start
            from {{ ref('int_tenants__periods') }}
            where grain = '{{ grain }}'
                and period_end_at > {{ window_bound('min_date') }}
                and period_start_at < {{ window_bound('max_date') }}
        )
    {%- endif -%}
{%- endmacro %}
