-- The quarantine: every raw row that did not reach the KPIs, with the rule it broke and
-- its raw values as text. A row keeps the first_seen_at of the previous build while it
-- stays rejected (matched on its table and raw text); a row fixed in the raw table leaves.
{%- set previous = previous_build(adapter.get_relation(this.database, this.schema, this.identifier)) if execute else none %}
with

requests as (
    select * from {{ ref('int_service_requests__validated') }}
    where rejection_reason is not null
),

events as (
    select * from {{ ref('int_sr_events__validated') }}
    where rejection_reason is not null
),

deployments as (
    select * from {{ ref('int_deployments__validated') }}
    where rejection_reason is not null
),

rejections as (
    select
        'service_requests' as source_table, raw_key, tenant_id,
        rejection_reason, rejection_detail, raw_values
    from requests

    union all

    select
        'sr_events' as source_table, raw_key, tenant_id,
        rejection_reason, rejection_detail, raw_values
    from events

    union all

    select
        'deployments' as source_table, raw_key, tenant_id,
        rejection_reason, rejection_detail, raw_values
    from deployments
),

numbered as (
    -- identical raw rows (copies) are told apart by their rank among the copies
    select
        rejections.*,
        row_number() over (
            partition by source_table, raw_values
            order by rejection_reason
        ) as copy_number
    from rejections
),

identified as (
    select
        numbered.*,
        {{ dbt.hash(
            "source_table || '|' || raw_values || '|' || cast(copy_number as " ~ dbt.type_string() ~ ")"
        ) }} as rejection_id
    from numbered
),

{% if previous is not none %}
previously_seen as (
    select rejection_id, first_seen_at from {{ previous }}
),
{% endif %}

final as (
    select
        -- keys
        cast(identified.rejection_id as {{ dbt.type_string() }}) as rejection_id,
        cast(identified.source_table as {{ dbt.type_string() }}) as source_table,
        cast(identified.raw_key as {{ dbt.type_string() }}) as raw_key,
        cast(identified.tenant_id as bigint) as tenant_id,
        -- the rejection
        cast(identified.rejection_reason as {{ dbt.type_string() }}) as rejection_reason,
        cast(identified.rejection_detail as {{ dbt.type_string() }}) as rejection_detail,
        cast(identified.raw_values as {{ dbt.type_string() }}) as raw_values,
        -- timestamps (UTC)
        {%- if previous is not none %}
        cast(coalesce(previously_seen.first_seen_at, {{ as_of_timestamp() }}) as timestamp) as first_seen_at
        {%- else %}
        cast({{ as_of_timestamp() }} as timestamp) as first_seen_at
        {%- endif %}
    from identified
    {%- if previous is not none %}
    left join previously_seen
        on identified.rejection_id = previously_seen.rejection_id
    {%- endif %}
)

select * from final
