-- The net change of every STOCK KPI (SR_BACKLOG, and custom ones) per tenant and local
-- day: the measurements of int_kpi__measurements added up once per run, from which the
-- fact tables read every STOCK level (kpi_period_values): a period's net change is the
-- sum of its days, the opening level before a run's window the sum of every day before
-- it. Before, each of the three fact tables summed every change of history before its
-- window on every run (1M requests, PostgreSQL: 2.1 million measurements per pass).
-- The breakdowns read the measurements themselves: the same table per slice (1.4 million
-- rows at 1M requests) cost more to build than it saved them.
-- A table rebuilt on every run: a reprocessed request moves its changes (its backlog
-- entry and exit), and which days it moved them from is not known here.
with

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

measurements as (
    select * from {{ ref('int_kpi__measurements') }}
),

daily_changes as (
    select
        measurements.tenant_id,
        measurements.kpi_name,
        measurements.local_date,
        sum(measurements.numerator) as net_change
    from measurements
    inner join definitions
        on measurements.kpi_name = definitions.kpi_name
    where definitions.aggregation = 'STOCK'
        and measurements.local_date is not null
    group by measurements.tenant_id, measurements.kpi_name, measurements.local_date
),

final as (
    select
        cast(tenant_id as bigint) as tenant_id,
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(local_date as date) as local_date,
        {{ exact_decimal('net_change') }} as net_change
    from daily_changes
)

select * from final
