-- Who gets what: per tenant, KPI and light transition (and per tenant for the daily
-- digest, once for stale feeds) the channels of the most specific alert_rules present,
-- (tenant, KPI) > (tenant, blank KPI) > (blank tenant, KPI) > (blank, blank); a `none`
-- row at that level mutes it (no row here).
with

rules as (
    select * from {{ ref('alert_rules') }}
),

tenants as (
    select * from {{ ref('int_tenants__activity') }}
),

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

light_transitions as (
    select cast('TURNED_RED' as {{ dbt.type_string() }}) as transition
    union all
    select cast('TURNED_YELLOW' as {{ dbt.type_string() }}) as transition
    union all
    select cast('RECOVERED' as {{ dbt.type_string() }}) as transition
    union all
    select cast('NO_DATA' as {{ dbt.type_string() }}) as transition
),

light_matches as (
    -- every tenant x KPI x light transition, with each rule that covers it and the rule's
    -- level (1 = most specific)
    select
        tenants.tenant_id,
        definitions.kpi_name,
        light_transitions.transition,
        rules.channel,
        case
            when rules.tenant_id is not null and rules.kpi_name is not null then 1
            when rules.tenant_id is not null then 2
            when rules.kpi_name is not null then 3
            else 4
        end as rule_level
    from tenants
    cross join definitions
    cross join light_transitions
    inner join rules
        on light_transitions.transition = rules.transition
        and (rules.tenant_id = tenants.tenant_id or rules.tenant_id is null)
        and (rules.kpi_name = definitions.kpi_name or rules.kpi_name is null)
),

digest_matches as (
    -- the daily digest: per tenant, the tenant's own rules beat the blank-tenant ones
    select
        tenants.tenant_id,
        cast(null as {{ dbt.type_string() }}) as kpi_name,
        rules.transition,
        rules.channel,
        case when rules.tenant_id is not null then 2 else 4 end as rule_level
    from tenants
    inner join rules
        on (rules.tenant_id = tenants.tenant_id or rules.tenant_id is null)
        and rules.kpi_name is null
    where rules.transition = 'DAILY_DIGEST'
),

feed_matches as (
    -- stale raw feeds concern every tenant: blank-tenant, blank-KPI rules only
    select
        cast(null as bigint) as tenant_id,
        cast(null as {{ dbt.type_string() }}) as kpi_name,
        rules.transition,
        rules.channel,
        4 as rule_level
    from rules
    where rules.transition = 'FEED_STALE'
        and rules.tenant_id is null
        and rules.kpi_name is null
),

matches as (
    select * from light_matches
    union all
    select * from digest_matches
    union all
    select * from feed_matches
),

levels_ranked as (
    select
        matches.*,
        min(rule_level) over (
            partition by tenant_id, kpi_name, transition
        ) as winning_level
    from matches
),

winning_rules as (
    select
        levels_ranked.*,
        max(case when channel = 'none' then 1 else 0 end) over (
            partition by tenant_id, kpi_name, transition
        ) as is_muted
    from levels_ranked
    where rule_level = winning_level
),

final as (
    select
        -- keys
        cast(tenant_id as bigint) as tenant_id,
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(transition as {{ dbt.type_string() }}) as transition,
        cast(channel as {{ dbt.type_string() }}) as channel
    from winning_rules
    where is_muted = 0
        and channel <> 'none'
)

select * from final
