{#- A select of the business clock's position of instants: for each row of `instants`
    (a relation or CTE with columns calendar_name, timezone, instant_at and the
    `key_columns`), the calendar's business seconds from the start of its range
    (int_business_calendars__intervals) to instant_at, in column business_position.
    The instant's local date (in its timezone) is joined by equality to that day's
    intervals only (a day without business time has one empty interval): the business
    seconds before the day, plus the part of each of the day's intervals before the
    instant. Business time between a and b is position(b) - position(a). An instant
    outside the intervals' range gets no row. -#}
{% macro business_position(instants, intervals, key_columns) -%}
    select
        {%- for column in key_columns %}
        located.{{ column }},
        {%- endfor %}
        min(intervals.business_seconds_before)
            + sum(
                greatest(
                    least({{ seconds_between('intervals.start_at', 'located.instant_at') }}, intervals.business_seconds),
                    0.0
                )
            ) as business_position
    from (
        select
            positioned.*,
            cast({{ utc_to_local('positioned.instant_at', 'positioned.timezone') }} as date) as instant_local_date
        from {{ instants }} as positioned
    ) as located
    inner join {{ intervals }} as intervals
        on located.calendar_name = intervals.calendar_name
        and located.timezone = intervals.timezone
        and located.instant_local_date = intervals.local_date
    group by
        {%- for column in key_columns %}
        located.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
{%- endmacro %}
