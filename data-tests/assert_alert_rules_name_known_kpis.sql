-- Every alert_rules row with a kpi_name names a KPI of kpi_definitions (a typo would
-- silently route nothing). Returns the offending alert_rules rows.
with

rules as (
    select * from {{ ref('alert_rules') }}
),

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

final as (
    select
        rules.tenant_id,
        rules.kpi_name,
        rules.transition,
        rules.channel
    from rules
    left join definitions
        on rules.kpi_name = definitions.kpi_name
    where rules.kpi_name is not null
        and definitions.kpi_name is null
)

select * from final
