-- The tenants with at least one measurement (by as_of) of each KPI whose denominator is
-- the period's elapsed days (kpi_definitions.denominator_basis ELAPSED_DAYS:
-- DEPLOYMENT_FREQUENCY): such a tenant has a value in every period, 0 without a
-- measurement in it; any other tenant has none (kpi_period_values). Found once per run
-- here, rather than by a scan of every measurement in each fact table and the breakdowns.
with

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

measurements as (
    select * from {{ ref('int_kpi__measurements') }}
),

measuring_tenants as (
    select distinct measurements.tenant_id, measurements.kpi_name
    from measurements
    inner join definitions
        on measurements.kpi_name = definitions.kpi_name
    where definitions.denominator_basis = 'ELAPSED_DAYS'
),

final as (
    select
        cast(tenant_id as bigint) as tenant_id,
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name
    from measuring_tenants
)

select * from final
