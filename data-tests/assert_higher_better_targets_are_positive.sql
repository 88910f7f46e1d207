-- A HIGHER_BETTER KPI's target must be > 0 (achievement = value / target x 100).
-- Returns the offending kpi_targets rows.
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
        targets.valid_from
    from targets
    inner join definitions
        on targets.kpi_name = definitions.kpi_name
    where definitions.direction = 'HIGHER_BETTER'
        and targets.target <= 0
)

select * from final
