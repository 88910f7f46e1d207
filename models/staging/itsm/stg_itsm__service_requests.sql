with

source as (
    select * from {{ source('itsm', 'service_requests') }}
),

renamed as (
    select
        -- keys
        cast(sr_id as bigint) as sr_id,
        cast(tenant_id as bigint) as tenant_id,
        cast(assignee_id as bigint) as assignee_id,
        cast(caused_by_deployment_id as bigint) as caused_by_deployment_id,
        -- attributes
        cast(request_type as {{ dbt.type_string() }}) as request_type,
        cast(priority as {{ dbt.type_string() }}) as priority,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(service as {{ dbt.type_string() }}) as service,
        cast(team as {{ dbt.type_string() }}) as team,
        -- timestamps (UTC)
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at,
        cast(resolved_at as timestamp) as resolved_at
    from source
),

final as (
    select * from renamed
)

select * from final
