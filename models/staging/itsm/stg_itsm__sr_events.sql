with

source as (
    select * from {{ source('itsm', 'sr_events') }}
),

renamed as (
    select
        -- keys
        cast(event_id as bigint) as event_id,
        cast(sr_id as bigint) as sr_id,
        cast(tenant_id as bigint) as tenant_id,
        -- attributes
        cast(event_type as {{ dbt.type_string() }}) as event_type,
        cast(new_status as {{ dbt.type_string() }}) as new_status,
        cast(new_assignee_id as bigint) as new_assignee_id,
        -- timestamps (UTC)
        cast(event_at as timestamp) as event_at
    from source
),

final as (
    select * from renamed
)

select * from final
