-- A kpi_targets window [valid_from, valid_to) with valid_to on or before valid_from holds
-- no date at all: almost certainly swapped or mistyped dates. Returns the offending rows.
with

targets as (
    select * from {{ ref('kpi_targets') }}
),

final as (
    select
        tenant_id,
        kpi_name,
        target,
        valid_from,
        valid_to
    from targets
    where valid_to <= valid_from
)

select * from final
