-- A DAILY_DIGEST row of alert_rules with a KPI: the digest is one message per tenant
-- (every KPI), so such a row could never apply. Returns the offending rows.
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
    where transition = 'DAILY_DIGEST'
        and kpi_name is not null
)

select * from final
