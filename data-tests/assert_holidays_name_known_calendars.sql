-- Every holidays row names a calendar of business_calendars: a holiday of an unknown
-- calendar (a typo) would silently remove no business time. Returns the offending rows.
with

holidays as (
    select * from {{ ref('holidays') }}
),

calendars as (
    select distinct calendar_name from {{ ref('business_calendars') }}
),

final as (
    select
        holidays.calendar_name,
        holidays.holiday_date,
        holidays.holiday_name
    from holidays
    left join calendars
        on holidays.calendar_name = calendars.calendar_name
    where calendars.calendar_name is null
)

select * from final
