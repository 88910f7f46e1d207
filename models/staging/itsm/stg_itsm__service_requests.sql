-- Every row of the raw service_requests table, one per raw row (keys are not checked
-- yet: see int_service_requests__validated). Keys and timestamps are cast, or parsed
-- safely when the raw column is text; codes are trimmed and upper-cased.
{%- set columns = {
    'sr_id': 'bigint', 'tenant_id': 'bigint', 'assignee_id': 'bigint',
    'caused_by_deployment_id': 'bigint', 'created_at': 'timestamp',
    'updated_at': 'timestamp', 'resolved_at': 'timestamp',
} -%}
{%- set column_types = raw_column_types(source('itsm', 'service_requests')) %}
with

source as (
    select * from {{ source('itsm', 'service_requests') }}
),

renamed as (
    select
        -- keys
        {{ parse_raw_column('sr_id', 'bigint', column_types) }} as sr_id,
        {{ parse_raw_column('tenant_id', 'bigint', column_types) }} as tenant_id,
        {{ parse_raw_column('assignee_id', 'bigint', column_types) }} as assignee_id,
        {{ parse_raw_column('caused_by_deployment_id', 'bigint', column_types) }} as caused_by_deployment_id,
        -- attributes
        {{ raw_code('request_type') }} as request_type,
        {{ raw_code('priority') }} as priority,
        {{ raw_code('status') }} as status,
        cast(service as {{ dbt.type_string() }}) as service,
        cast(team as {{ dbt.type_string() }}) as team,
        -- timestamps (UTC)
        {{ parse_raw_column('created_at', 'timestamp', column_types) }} as created_at,
        {{ parse_raw_column('updated_at', 'timestamp', column_types) }} as updated_at,
        {{ parse_raw_column('resolved_at', 'timestamp', column_types) }} as resolved_at,
        -- the raw row as it came (any type), for the quarantine
        {{ raw_parse_failures(columns, column_types) }} as parse_failures,
        sr_id as raw_sr_id,
        tenant_id as raw_tenant_id,
        request_type as raw_request_type,
        priority as raw_priority,
        status as raw_status,
        service as raw_service,
        team as raw_team,
        assignee_id as raw_assignee_id,
        created_at as raw_created_at,
        updated_at as raw_updated_at,
        resolved_at as raw_resolved_at,
        caused_by_deployment_id as raw_caused_by_deployment_id
    from source
),

final as (
    select * from renamed
)

select * from final
