-- Every business_calendars time is local HH:MM: a start from 00:00 to 23:59, an end from
-- 00:00 to 24:00 (24:00 = the end of the day). Returns the offending rows.
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
    where not {{ regex_full_match('start_time', '([01][0-9]|2[0-3]):[0-5][0-9]') }}
        or not {{ regex_full_match('end_time', '([01][0-9]|2[0-3]):[0-5][0-9]|24:00') }}
)

select * from final
