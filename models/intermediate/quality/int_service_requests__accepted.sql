-- The raw service_requests rows that passed validation: one row per sr_id.
with

validated as (
    select * from {{ ref('int_service_requests__validated') }}
),

final as (
    select * from validated
    where rejection_reason is null
)

select * from final
