-- The business intervals of every business calendar in every timezone a tenant's SLA
-- policy reads it in (README, Business-hours SLAs): one row per calendar, timezone, local
-- date and interval, with the interval's bounds as UTC instants (local_to_utc: a day the
-- clocks change has its real length; 24:00 is the next day's 00:00) and the calendar's
-- running total of business seconds before it. Holidays have no interval. A local day
-- without business time (a weekend, a holiday) keeps one empty interval (0 seconds) at
-- its local midnight, so that every local day of the range has a row: the business
-- clock's position of an instant is then an equality join on its local date
-- (macros/business_hours: business_position), never a range join over days.
-- Range: from the day before the first activity of the tenants reading the calendar
-- (their local dates) to 400 days after as_of's local date (room for due dates).
-- Small (calendars x timezones x days x intervals per day): rebuilt whole on every run.
with

policies as (
    select * from {{ ref('int_tenants__sla_policies') }}
    where calendar_name is not null
),

tenants as (
    select * from {{ ref('int_tenants__activity') }}
),

calendar_rows as (
    select * from {{ ref('business_calendars') }}
),

holidays as (
    select * from {{ ref('holidays') }}
),

calendar_bounds as (
    -- each calendar and timezone some policy reads it in, over its tenants' history
    select
        policies.calendar_name,
        policies.timezone,
        cast({{ dbt.dateadd(
            'day', '-1',
            'min(cast(' ~ utc_to_local(
                'coalesce(tenants.first_activity_at, ' ~ as_of_timestamp() ~ ')', 'policies.timezone'
            ) ~ ' as date))'
        ) }} as date) as first_local_date,
        cast({{ dbt.dateadd(
            'day', '400',
            'cast(' ~ utc_to_local(as_of_timestamp(), 'policies.timezone') ~ ' as date)'
        ) }} as date) as last_local_date
    from policies
    inner join tenants
        on policies.tenant_id = tenants.tenant_id
    group by policies.calendar_name, policies.timezone
),

day_offsets as (
    select series.n
    from ({{ integer_series(5) }}) as series
    where series.n <= (
        select max({{ dbt.datediff('first_local_date', 'last_local_date', 'day') }})
        from calendar_bounds
    )
),

local_days as (
    select
        calendar_bounds.calendar_name,
        calendar_bounds.timezone,
        cast({{ dbt.dateadd('day', 'day_offsets.n', 'calendar_bounds.first_local_date') }} as date)
            as local_date
    from calendar_bounds
    inner join day_offsets
        on day_offsets.n <= {{ dbt.datediff(
            'calendar_bounds.first_local_date', 'calendar_bounds.last_local_date', 'day'
        ) }}
),

weekdays as (
    -- ISO weekday (1 = Monday): days since Monday 1900-01-01, modulo 7
    select
        local_days.*,
        cast(
            {{ dbt.datediff("cast('1900-01-01' as date)", 'local_days.local_date', 'day') }} % 7 + 1
            as integer
        ) as weekday
    from local_days
),

business_days as (
    -- holidays removed
    select weekdays.*
    from weekdays
    left join holidays
        on weekdays.calendar_name = holidays.calendar_name
        and weekdays.local_date = holidays.holiday_date
    where holidays.holiday_date is null
),

calendar_minutes as (
    -- each row's local start and end as minutes after midnight (24:00 = 1440)
    select
        calendar_name,
        weekday,
        cast(substring(start_time, 1, 2) as integer) * 60
            + cast(substring(start_time, 4, 2) as integer) as start_minute,
        cast(substring(end_time, 1, 2) as integer) * 60
            + cast(substring(end_time, 4, 2) as integer) as end_minute
    from calendar_rows
),

local_intervals as (
    select
        business_days.calendar_name,
        business_days.timezone,
        business_days.local_date,
        {{ dbt.dateadd('minute', 'calendar_minutes.start_minute', 'cast(business_days.local_date as timestamp)') }}
            as local_start,
        {{ dbt.dateadd('minute', 'calendar_minutes.end_minute', 'cast(business_days.local_date as timestamp)') }}
            as local_end
    from business_days
    inner join calendar_minutes
        on business_days.calendar_name = calendar_minutes.calendar_name
        and business_days.weekday = calendar_minutes.weekday
),

empty_days as (
    -- a day without business time: one empty interval at its local midnight
    select
        weekdays.calendar_name,
        weekdays.timezone,
        weekdays.local_date,
        cast(weekdays.local_date as timestamp) as local_start,
        cast(weekdays.local_date as timestamp) as local_end
    from weekdays
    where not exists (
        select 1 from local_intervals
        where local_intervals.calendar_name = weekdays.calendar_name
            and local_intervals.timezone = weekdays.timezone
            and local_intervals.local_date = weekdays.local_date
    )
),

utc_intervals as (
    select
        calendar_name,
        timezone,
        local_date,
        {{ local_to_utc('local_start', 'timezone') }} as start_at,
        {{ local_to_utc('local_end', 'timezone') }} as end_at
    from (
        select * from local_intervals
        union all
        select * from empty_days
    ) as all_intervals
),

measured as (
    select
        utc_intervals.*,
        {{ seconds_between('start_at', 'end_at') }} as business_seconds
    from utc_intervals
),

running_totals as (
    -- the calendar's business seconds from the range start to the interval's start
    select
        measured.*,
        coalesce(
            sum(business_seconds) over (
                partition by calendar_name, timezone
                order by start_at, end_at
                rows between unbounded preceding and 1 preceding
            ),
            0.0
        ) as business_seconds_before
    from measured
),

final as (
    select
        -- keys
        cast(calendar_name as {{ dbt.type_string() }}) as calendar_name,
        cast(timezone as {{ dbt.type_string() }}) as timezone,
        local_date,
        -- timestamps (UTC)
        cast(start_at as timestamp) as start_at,
        cast(end_at as timestamp) as end_at,
        -- measures
        cast(business_seconds as {{ type_double() }}) as business_seconds,
        cast(business_seconds_before as {{ type_double() }}) as business_seconds_before
    from running_totals
)

select * from final
