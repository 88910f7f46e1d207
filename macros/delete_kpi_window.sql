{#- Pre-hook of the grain fact tables: on an incremental run, deletes the rows of every
    tenant period of `grain` overlapping the recompute window [min_date, max_date) (its
    start moved back by lookback_days, see window_bound), so the run replaces them (a KPI
    disabled since the last run leaves no stale row); only the KPIs of kpi_selection()
    when a run is restricted to some. Without a window, every row (of those KPIs) is
    deleted. It runs in the model's transaction, after lock_kpi_facts: readers see the
    old rows or the new ones, and overlapping runs take turns. -#}
{% macro delete_kpi_window(grain) -%}
    {%- set has_window = (
        (var('min_date', '') or env_setting('KPI_MIN_DATE') or var('max_date', '') or env_setting('KPI_MAX_DATE'))
        | string | trim
    ) != '' -%}
    {%- if is_incremental() and not has_window -%}
        {#- no window: everything is recomputed, so every row goes (also those of periods
            that no longer exist, e.g. after a tenant's timezone changed) -#}
        delete from {{ this }}
        where {{ kpi_selection('kpi_name') }}
    {%- elif is_incremental() -%}
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
