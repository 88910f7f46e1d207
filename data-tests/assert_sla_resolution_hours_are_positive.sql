-- Every sla_policies row allows more than 0 hours. A negative SLA can never be met, and
-- neither can 0 hours in practice (only a request resolved the instant it is created, or
-- on hold all along): both would silently turn SLA compliance to 0 %. To leave a request
-- type or priority out of SLA compliance, leave its row out. Returns the offending rows.
with

policies as (
    select * from {{ ref('sla_policies') }}
),

final as (
    select
        tenant_id,
        request_type,
        priority,
        resolution_hours
    from policies
    where resolution_hours <= 0
)

select * from final
