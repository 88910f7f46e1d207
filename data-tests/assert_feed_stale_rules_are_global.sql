-- A FEED_STALE row of alert_rules with a tenant or a KPI: a raw table's freshness concerns
-- every tenant and KPI, so such a row could never apply. Returns the offending rows.
with

rules as (
    select * from {{ ref('alert_rules') }}
),

final as (
    select
        tenant_id,
        kpi_name,
        transition,
        channel
    from rules
    where transition = 'FEED_STALE'
        and (tenant_id is not null or kpi_name is not null)
)

select * from final
