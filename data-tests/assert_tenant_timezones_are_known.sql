{{ config(severity='warn') }}
-- Every tenants.csv timezone is a name this engine knows (exact spelling, as in the IANA
-- database: Asia/Seoul, UTC). Only a warning: the engine quarantines the raw rows of a
-- tenant with an unknown timezone instead of stopping every tenant's build. Returns the
-- offending tenants (a blank timezone is the not_null test's).
with

tenants as (
    select * from {{ ref('tenants') }}
),

known_timezones as (
    select name as timezone from {{ timezone_names() }} as timezone_names
),

final as (
    select
        tenants.tenant_id,
        tenants.tenant_name,
        tenants.timezone
    from tenants
    left join known_timezones
        on tenants.timezone = known_timezones.timezone
    where tenants.timezone is not null
        and known_timezones.timezone is null
)

select * from final
