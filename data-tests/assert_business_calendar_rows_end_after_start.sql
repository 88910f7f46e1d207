-- Every business_calendars row ends after it starts, on the same local day (HH:MM texts
-- compare as times; 24:00 ends the day): an empty or reversed row is a typo. Returns the
-- offending rows.
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
    where end_time <= start_time
)

select * from final
