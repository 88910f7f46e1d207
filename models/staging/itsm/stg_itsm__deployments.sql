with

source as (
    select * from {{ source('itsm', 'deployments') }}
),

renamed as (
    select
        -- keys
        cast(deployment_id as bigint) as deployment_id,
        cast(tenant_id as bigint) as tenant_id,
        -- attributes
        cast(service as {{ dbt.type_string() }}) as service,
        cast(environment as {{ dbt.type_string() }}) as environment,
        cast(status as {{ dbt.type_string() }}) as status,
        -- timestamps (UTC)
        cast(started_at as timestamp) as started_at,
        cast(finished_at as timestamp) as finished_at,
        cast(commit_at as timestamp) as commit_at
    from source
),

final as (
    select * from renamed
)

select * from final
