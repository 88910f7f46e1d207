-- KPI measurements summed per tenant, KPI and local day (the tenant's timezone), with the
-- ISO week and month holding the day: the one scan of the facts every grain is built from.
-- STOCK changes count strictly before as_of, flows up to and including it.
with

measurements as (
    select * from {{ ref('int_kpi__measurements') }}
),

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

tenants as (
    select * from {{ ref('int_tenants__activity') }}
),

in_scope as (
    select
        measurements.tenant_id,
        measurements.kpi_name,
        measurements.numerator,
        measurements.denominator,
        cast({{ utc_to_local('measurements.measured_at', 'tenants.timezone') }} as date) as local_date
    from measurements
    inner join definitions
        on measurements.kpi_name = definitions.kpi_name
    inner join tenants
        on measurements.tenant_id = tenants.tenant_id
    where measurements.measured_at is not null
        and (
            (definitions.aggregation = 'STOCK' and measurements.measured_at < {{ as_of_timestamp() }})
            or (definitions.aggregation <> 'STOCK' and measurements.measured_at <= {{ as_of_timestamp() }})
        )
),

daily as (
    select
        tenant_id,
        kpi_name,
        local_date,
        sum({{ exact_decimal('numerator') }}) as numerator,
        sum({{ exact_decimal('denominator') }}) as denominator,
        count(*) as measurement_count
    from in_scope
    group by tenant_id, kpi_name, local_date
),

final as (
    select
        -- keys
        tenant_id,
        kpi_name,
        local_date,
        -- attributes
        {{ period_start('week', 'local_date') }} as week_start,
        {{ period_start('month', 'local_date') }} as month_start,
        -- measures
        cast(numerator as double precision) as numerator,
        cast(denominator as double precision) as denominator,
        cast(measurement_count as bigint) as measurement_count
    from daily
)

select * from final
