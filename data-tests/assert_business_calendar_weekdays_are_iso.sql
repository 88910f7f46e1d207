-- Every business_calendars row names an ISO weekday, 1 (Monday) .. 7 (Sunday): another
-- number would silently never match a day. Returns the offending rows.
with

calendars as (
    select * from {{ ref('business_calendars') }}
),

final as (
    select
        calendar_name,
        weekday,
        start_time,
        end_time
    from calendars
    where weekday < 1 or weekday > 7
)

select * from final
