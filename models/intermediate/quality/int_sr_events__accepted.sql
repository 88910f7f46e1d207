-- The raw sr_events rows that passed validation: one row per event_id.
with

validated as (
    select * from {{ ref('int_sr_events__validated') }}
),

final as (
    select * from validated
    where rejection_reason is null
)

select * from final
