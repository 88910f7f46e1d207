-- The SLA policy in force for each tenant, request type and priority: the tenant's own
-- row of sla_policies beats the default (blank-tenant) row for the same type and
-- priority. A type and priority without any row has no policy (no row here). The policy's
-- business calendar (blank = 24/7) is read in the tenant's timezone.
-- Small (tenants x policies): rebuilt whole on every run.
with

tenants as (
    select * from {{ ref('int_tenants__activity') }}
),

policies as (
    select * from {{ ref('sla_policies') }}
),

ranked_policies as (
    select
        tenants.tenant_id,
        policies.request_type,
        policies.priority,
        policies.resolution_hours,
        policies.pause_on_hold,
        policies.calendar_name,
        tenants.timezone,
        row_number() over (
            partition by tenants.tenant_id, policies.request_type, policies.priority
            order by case when policies.tenant_id is null then 1 else 0 end
        ) as policy_rank
    from tenants
    inner join policies
        on policies.tenant_id = tenants.tenant_id
        or policies.tenant_id is null
),

final as (
    select
        -- keys
        tenant_id,
        request_type,
        priority,
        -- attributes
        pause_on_hold,
        cast(calendar_name as {{ dbt.type_string() }}) as calendar_name,
        cast(timezone as {{ dbt.type_string() }}) as timezone,
        -- measures
        cast(resolution_hours as {{ type_double() }}) as resolution_hours
    from ranked_policies
    where policy_rank = 1
)

select * from final
