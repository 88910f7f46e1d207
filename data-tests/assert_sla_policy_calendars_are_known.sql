-- Every sla_policies calendar_name (blank = 24/7) is a calendar of business_calendars:
-- an unknown name (a typo) would leave the policy's requests without any business time.
-- Returns the offending policies.
with

policies as (
    select * from {{ ref('sla_policies') }}
    where calendar_name is not null
),

calendars as (
    select distinct calendar_name from {{ ref('business_calendars') }}
),

final as (
    select
        policies.tenant_id,
        policies.request_type,
        policies.priority,
        policies.calendar_name
    from policies
    left join calendars
        on policies.calendar_name = calendars.calendar_name
    where calendars.calendar_name is null
)

select * from final
