-- A `none` row of alert_rules (mute) next to another channel for the same tenant (blank
-- compared with blank), KPI (idem) and transition: muted and routed at once is a
-- contradiction. Returns tenant_id, kpi_name, transition and the number of channels.
with

rules as (
    select * from {{ ref('alert_rules') }}
),

final as (
    select
        tenant_id,
        kpi_name,
        transition,
        count(*) as channel_count
    from rules
    group by tenant_id, kpi_name, transition
    having sum(case when channel = 'none' then 1 else 0 end) > 0
        and count(*) > 1
)

select * from final
