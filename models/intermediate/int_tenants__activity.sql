with

timezone_checks as (
    select * from {{ ref('int_tenants__timezone_checks') }}
),

tenant_settings as (
    -- a tenant whose timezone the engine does not know is left out: its raw rows are
    -- rejected (TENANT_TIMEZONE_INVALID) and seed test assert_tenant_timezones_are_known warns
    select tenants.*
    from {{ ref('tenants') }} as tenants
    inner join timezone_checks
        on tenants.tenant_id = timezone_checks.tenant_id
    where timezone_checks.is_valid_timezone
),

requests as (
    select * from {{ ref('int_service_requests__accepted') }}
),

deployments as (
    select * from {{ ref('int_deployments__accepted') }}
),

activity as (
    select tenant_id, created_at as activity_at
    from requests
    where created_at <= {{ as_of_timestamp() }}

    union all

    select tenant_id, started_at as activity_at
    from deployments
    where started_at <= {{ as_of_timestamp() }}
),

first_activity as (
    select
        tenant_id,
        min(activity_at) as first_activity_at
    from activity
    where tenant_id is not null
    group by tenant_id
),

known_tenants as (
    select tenant_id from tenant_settings
    union
    select tenant_id from first_activity
),

final as (
    select
        -- keys
        known_tenants.tenant_id,
        -- attributes
        coalesce(
            tenant_settings.tenant_name,
            'Tenant ' || cast(known_tenants.tenant_id as {{ dbt.type_string() }})
        ) as tenant_name,
        coalesce(tenant_settings.timezone, {{ default_timezone() }}) as timezone,
        tenant_settings.tenant_id is not null as is_configured,
        -- timestamps (UTC)
        first_activity.first_activity_at
    from known_tenants
    left join tenant_settings
        on known_tenants.tenant_id = tenant_settings.tenant_id
    left join first_activity
        on known_tenants.tenant_id = first_activity.tenant_id
)

select * from final
