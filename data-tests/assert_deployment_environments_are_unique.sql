-- Two deployment_environments rows for the same tenant (blank compared with blank) and
-- environment, as environments match: trimmed, case-insensitive (' Prod ' and 'prod' are
-- one environment), so which one applies would be arbitrary. Returns tenant_id, the
-- matched environment and row_count.
with

environments as (
    select * from {{ ref('deployment_environments') }}
),

final as (
    select
        tenant_id,
        lower(trim(environment)) as environment_key,
        count(*) as row_count
    from environments
    group by tenant_id, lower(trim(environment))
    having count(*) > 1
)

select * from final
