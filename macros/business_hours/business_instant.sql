{#- A select of the instants at which the business clock reaches a position (the inverse
    of business_position): for each row of `targets` (a relation or CTE with columns
    calendar_name, timezone, target_position and the `key_columns`), the UTC instant, in
    column business_instant_at, inside the interval of int_business_calendars__intervals
    with business_seconds_before < target_position <= business_seconds_before +
    business_seconds (so a target at an interval's end is that end, not the next
    morning): its start plus the seconds left, to the microsecond. A range join against
    the intervals of the target's calendar and timezone; a target past the intervals'
    range gets no row. -#}
{% macro business_instant(targets, intervals, key_columns) -%}
    select
        {%- for column in key_columns %}
        targets.{{ column }},
        {%- endfor %}
        {{ hours_after(
            'intervals.start_at',
            '(targets.target_position - intervals.business_seconds_before) / 3600.0'
        ) }} as business_instant_at
    from {{ targets }} as targets
    inner join {{ intervals }} as intervals
        on targets.calendar_name = intervals.calendar_name
        and targets.timezone = intervals.timezone
        and intervals.business_seconds_before < targets.target_position
        and targets.target_position <= intervals.business_seconds_before + intervals.business_seconds
{%- endmacro %}
