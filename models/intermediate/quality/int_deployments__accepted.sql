-- The raw deployments rows that passed validation: one row per deployment_id.
with

validated as (
    select * from {{ ref('int_deployments__validated') }}
),

final as (
    select * from validated
    where rejection_reason is null
)

select * from final
