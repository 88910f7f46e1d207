-- Every row of the raw sr_events table, one per raw row (keys are not checked yet: see
-- int_sr_events__validated). Keys and timestamps are cast, or parsed safely when the raw
-- column is text; codes are trimmed and upper-cased.
{%- set columns = {
    'event_id': 'bigint', 'sr_id': 'bigint', 'tenant_id': 'bigint',
    'new_assignee_id': 'bigint', 'event_at': 'timestamp',
} -%}
{%- set column_types = raw_column_types(source('itsm', 'sr_events')) %}
with

source as (
    select * from {{ source('itsm', 'sr_events') }}
),

renamed as (
    select
        -- keys
        {{ parse_raw_column('event_id', 'bigint', column_types) }} as event_id,
        {{ parse_raw_column('sr_id', 'bigint', column_types) }} as sr_id,
        {{ parse_raw_column('tenant_id', 'bigint', column_types) }} as tenant_id,
        -- attributes
        {{ raw_code('event_type') }} as event_type,
        {{ raw_code('new_status') }} as new_status,
        {{ parse_raw_column('new_assignee_id', 'bigint', column_types) }} as new_assignee_id,
        -- timestamps (UTC)
        {{ parse_raw_column('event_at', 'timestamp', column_types) }} as event_at,
        -- the raw row as it came (any type), for the quarantine
        {{ raw_parse_failures(columns, column_types) }} as parse_failures,
        event_id as raw_event_id,
        sr_id as raw_sr_id,
        tenant_id as raw_tenant_id,
        event_at as raw_event_at,
        event_type as raw_event_type,
        new_status as raw_new_status,
        new_assignee_id as raw_new_assignee_id
    from source
),

final as (
    select * from renamed
)

select * from final
