-- A channel of alert_rules that is not a lower-case name (^[a-z][a-z0-9_]*$): the delivery
-- sensor reads a channel's URL from env KPI_ALERT_URL_<CHANNEL in upper case>, so 'Ops',
-- 'ops-team' or ' ops' would never be delivered. `none` (mute) is such a name. Returns
-- the offending rows.
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
    where channel is not null
        and not {{ regex_full_match('channel', '[a-z][a-z0-9_]*') }}
)

select * from final
