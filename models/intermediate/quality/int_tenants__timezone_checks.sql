-- Every tenant of seeds/tenants.csv and whether this engine knows its timezone name.
-- The raw rows of a tenant with an unknown timezone are rejected (TENANT_TIMEZONE_INVALID)
-- rather than failing every tenant's build at `at time zone`.
with

tenant_settings as (
    select * from {{ ref('tenants') }}
),

known_timezones as (
    select name from {{ timezone_names() }} as timezone_names
),

final as (
    select
        -- keys
        tenant_settings.tenant_id,
        -- attributes
        tenant_settings.timezone,
        exists (
            select 1 from known_timezones
            where known_timezones.name = tenant_settings.timezone
        ) as is_valid_timezone
    from tenant_settings
)

select * from final
