-- Every kpi_targets row names a KPI of kpi_definitions (a typo would silently switch
-- nothing on). Returns the offending kpi_targets rows.
with

targets as (
    select * from {{ ref('kpi_targets') }}
),

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

final as (
    select
        targets.tenant_id,
        targets.kpi_name,
        targets.target,
        targets.valid_from,
        targets.valid_to
    from targets
    left join definitions
        on targets.kpi_name = definitions.kpi_name
    where targets.kpi_name is not null
        and definitions.kpi_name is null
)

select * from final
