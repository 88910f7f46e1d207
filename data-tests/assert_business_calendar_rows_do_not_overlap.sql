-- Two business_calendars rows of the same calendar and weekday whose times overlap would
-- count the shared time twice. Rows are half-open, [start_time, end_time): rows that only
-- touch (one ends when the other starts) do not overlap. HH:MM texts compare as times.
-- Returns one row per overlapping pair.
with

calendars as (
    select
        calendar_name,
        weekday,
        start_time,
        end_time,
        -- tells apart identical rows, and keeps one orientation of each pair
        row_number() over (
            order by calendar_name, weekday, start_time, end_time
        ) as calendar_row
    from {{ ref('business_calendars') }}
    where start_time < end_time
),

overlapping_pairs as (
    select
        first_row.calendar_name,
        first_row.weekday,
        first_row.start_time,
        first_row.end_time,
        second_row.start_time as other_start_time,
        second_row.end_time as other_end_time
    from calendars as first_row
    inner join calendars as second_row
        on first_row.calendar_name = second_row.calendar_name
        and first_row.weekday = second_row.weekday
        and first_row.calendar_row < second_row.calendar_row
        and first_row.start_time < second_row.end_time
        and second_row.start_time < first_row.end_time
),

final as (
    select * from overlapping_pairs
)

select * from final
