-- What the delivery sensor sends: one row per change of light that is an alert (a
-- transition of kpi_status_transitions) and channel alert_routes gives its tenant, KPI
-- and transition, with the labels a message needs.
with

transitions as (
    select * from {{ ref('kpi_status_transitions') }}
    where transition is not null
),

routes as (
    select * from {{ ref('alert_routes') }}
),

tenants as (
    select * from {{ ref('int_tenants__activity') }}
),

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

routed as (
    select
        transitions.*,
        routes.channel
    from transitions
    inner join routes
        on transitions.tenant_id = routes.tenant_id
        and transitions.kpi_name = routes.kpi_name
        and transitions.transition = routes.transition
),

final as (
    select
        -- keys
        cast({{ dbt.hash(dbt.concat([
            "coalesce(cast(routed.transition_key as " ~ dbt.type_string() ~ "), '')", "'|'",
            "coalesce(cast(routed.channel as " ~ dbt.type_string() ~ "), '')",
        ])) }} as {{ dbt.type_string() }}) as alert_key,
        cast(routed.transition_key as {{ dbt.type_string() }}) as transition_key,
        cast(routed.channel as {{ dbt.type_string() }}) as channel,
        cast(routed.transition as {{ dbt.type_string() }}) as transition,
        cast(routed.tenant_id as bigint) as tenant_id,
        cast(tenants.tenant_name as {{ dbt.type_string() }}) as tenant_name,
        cast(routed.kpi_name as {{ dbt.type_string() }}) as kpi_name,
        -- the KPI
        cast(definitions.display_name as {{ dbt.type_string() }}) as display_name,
        cast(definitions.display_name_en as {{ dbt.type_string() }}) as display_name_en,
        cast(definitions.unit as {{ dbt.type_string() }}) as unit,
        cast(definitions.direction as {{ dbt.type_string() }}) as direction,
        -- the period and the change
        cast(routed.grain as {{ dbt.type_string() }}) as grain,
        cast(routed.period_start as date) as period_start,
        cast(routed.period_end as date) as period_end,
        cast(routed.previous_status as {{ dbt.type_string() }}) as previous_status,
        cast(routed.status as {{ dbt.type_string() }}) as status,
        -- measures
        cast(routed.value as {{ type_double() }}) as value,
        cast(routed.target as {{ type_double() }}) as target,
        cast(routed.achievement_pct as {{ type_double() }}) as achievement_pct,
        -- timestamps (UTC)
        cast(routed.as_of as timestamp) as as_of,
        cast(routed.seen_at as timestamp) as seen_at
    from routed
    left join tenants
        on routed.tenant_id = tenants.tenant_id
    left join definitions
        on routed.kpi_name = definitions.kpi_name
)

select * from final
