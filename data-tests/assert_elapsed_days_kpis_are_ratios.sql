-- denominator_basis ELAPSED_DAYS (a rate per elapsed local day, as DEPLOYMENT_FREQUENCY)
-- only means something for a RATIO KPI: any other aggregation has no denominator to
-- replace. Each failing row names the KPI.
with

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

final as (
    select
        kpi_name,
        aggregation,
        denominator_basis
    from definitions
    where denominator_basis = 'ELAPSED_DAYS'
        and aggregation <> 'RATIO'
)

select * from final
