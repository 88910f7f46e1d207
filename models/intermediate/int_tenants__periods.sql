-- Every local period (day, ISO week, month) of every tenant, from the one holding its
-- first activity through the one holding as_of, with its bounds as UTC instants.
with

tenants as (
    select * from {{ ref('int_tenants__activity') }}
    where first_activity_at is not null
),

tenant_bounds as (
    select
        tenant_id,
        timezone,
        cast({{ utc_to_local('first_activity_at', 'timezone') }} as date) as first_local_date,
        cast({{ utc_to_local(as_of_timestamp(), 'timezone') }} as date) as as_of_local_date
    from tenants
),

day_offsets as (
    -- as many days as the longest history needs (the join below compares every offset
    -- with every tenant's span)
    select series.n
    from ({{ integer_series(5) }}) as series
    where series.n <= (
        select max({{ dbt.datediff('first_local_date', 'as_of_local_date', 'day') }})
        from tenant_bounds
    )
),

local_days as (
    select
        tenant_bounds.tenant_id,
        tenant_bounds.timezone,
        cast({{ dbt.dateadd('day', 'day_offsets.n', 'tenant_bounds.first_local_date') }} as date) as local_date
    from tenant_bounds
    inner join day_offsets
        on day_offsets.n <= {{ dbt.datediff('tenant_bounds.first_local_date', 'tenant_bounds.as_of_local_date', 'day') }}
),

days as (
    select
        tenant_id,
        timezone,
        'DAILY' as grain,
        local_date as period_start,
        cast({{ dbt.dateadd('day', '1', 'local_date') }} as date) as period_end
    from local_days
),

weeks as (
    select
        tenant_id,
        timezone,
        'WEEKLY' as grain,
        week_start as period_start,
        cast({{ dbt.dateadd('day', '7', 'week_start') }} as date) as period_end
    from (
        select distinct tenant_id, timezone, {{ period_start('week', 'local_date') }} as week_start
        from local_days
    ) as distinct_weeks
),

months as (
    select
        tenant_id,
        timezone,
        'MONTHLY' as grain,
        month_start as period_start,
        cast({{ dbt.dateadd('month', '1', 'month_start') }} as date) as period_end
    from (
        select distinct tenant_id, timezone, {{ period_start('month', 'local_date') }} as month_start
        from local_days
    ) as distinct_months
),

periods as (
    select * from days
    union all
    select * from weeks
    union all
    select * from months
),

with_instants as (
    select
        periods.*,
        {{ local_to_utc('cast(periods.period_start as timestamp)', 'periods.timezone') }} as period_start_at,
        {{ local_to_utc('cast(periods.period_end as timestamp)', 'periods.timezone') }} as period_end_at
    from periods
),

final as (
    select
        -- keys
        tenant_id,
        cast(grain as {{ dbt.type_string() }}) as grain,
        period_start,
        -- attributes
        period_end,
        timezone,
        period_end_at <= {{ as_of_timestamp() }} as is_complete,
        period_start_at <= {{ as_of_timestamp() }}
            and {{ as_of_timestamp() }} < period_end_at as is_current,
        -- timestamps (UTC)
        period_start_at,
        period_end_at
    from with_instants
)

select * from final
