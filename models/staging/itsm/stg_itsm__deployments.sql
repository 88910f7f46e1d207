-- Every row of the raw deployments table, one per raw row (keys are not checked yet: see
-- int_deployments__validated). Keys and timestamps are cast, or parsed safely when the
-- raw column is text; codes are trimmed and upper-cased. fixes_sr_id is optional: a raw
-- table without the column reads as if it were all null.
{%- set column_types = raw_column_types(source('itsm', 'deployments')) %}
{#- at parse time column_types is empty: the column is assumed present -#}
{%- set has_fixes_sr_id = not execute or 'fixes_sr_id' in column_types %}
{%- set columns = {
    'deployment_id': 'bigint', 'tenant_id': 'bigint', 'started_at': 'timestamp',
    'finished_at': 'timestamp', 'commit_at': 'timestamp',
} -%}
{%- if has_fixes_sr_id %}
    {%- do columns.update({'fixes_sr_id': 'bigint'}) %}
{%- endif %}
with

source as (
    select * from {{ source('itsm', 'deployments') }}
),

renamed as (
    select
        -- keys
        {{ parse_raw_column('deployment_id', 'bigint', column_types) }} as deployment_id,
        {{ parse_raw_column('tenant_id', 'bigint', column_types) }} as tenant_id,
        {%- if has_fixes_sr_id %}
        {{ parse_raw_column('fixes_sr_id', 'bigint', column_types) }} as fixes_sr_id,
        {%- else %}
        cast(null as bigint) as fixes_sr_id,
        {%- endif %}
        -- attributes
        cast(service as {{ dbt.type_string() }}) as service,
        cast(environment as {{ dbt.type_string() }}) as environment,
        {{ raw_code('status') }} as status,
        -- timestamps (UTC)
        {{ parse_raw_column('started_at', 'timestamp', column_types) }} as started_at,
        {{ parse_raw_column('finished_at', 'timestamp', column_types) }} as finished_at,
        {{ parse_raw_column('commit_at', 'timestamp', column_types) }} as commit_at,
        -- the raw row as it came (any type), for the quarantine
        {{ raw_parse_failures(columns, column_types) }} as parse_failures,
        deployment_id as raw_deployment_id,
        tenant_id as raw_tenant_id,
        service as raw_service,
        environment as raw_environment,
        status as raw_status,
        started_at as raw_started_at,
        finished_at as raw_finished_at,
        commit_at as raw_commit_at,
        {%- if has_fixes_sr_id %}
        fixes_sr_id as raw_fixes_sr_id
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as raw_fixes_sr_id
        {%- endif %}
    from source
),

final as (
    select * from renamed
)

select * from final
