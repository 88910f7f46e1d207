-- Two kpi_targets rows of the same tenant and KPI whose windows share a date: which
-- target applies would be ambiguous. Windows are half-open, [valid_from, valid_to); a blank
-- valid_from is -infinity, a blank valid_to +infinity, so windows that merely touch (one's
-- valid_to is the other's valid_from) do not overlap. Blank-tenant (default) rows are
-- compared with each other, never with a tenant's own rows (those override them). Empty
-- windows are left to assert_kpi_target_windows_are_not_empty. Returns one row per
-- overlapping pair, the two windows side by side.
with

targets as (
    select
        tenant_id,
        kpi_name,
        target,
        valid_from,
        valid_to,
        -- tells apart identical rows, and keeps one orientation of each pair
        row_number() over (
            order by tenant_id, kpi_name, valid_from, valid_to, target, is_enabled
        ) as target_row
    from {{ ref('kpi_targets') }}
    where valid_from is null
        or valid_to is null
        or valid_from < valid_to
),

overlapping_pairs as (
    select
        -- keys
        first_window.tenant_id,
        first_window.kpi_name,
        -- the two windows
        first_window.valid_from as first_valid_from,
        first_window.valid_to as first_valid_to,
        first_window.target as first_target,
        second_window.valid_from as second_valid_from,
        second_window.valid_to as second_valid_to,
        second_window.target as second_target
    from targets as first_window
    inner join targets as second_window
        on first_window.kpi_name = second_window.kpi_name
        and first_window.tenant_id is not distinct from second_window.tenant_id
        and first_window.target_row < second_window.target_row
    where (
            first_window.valid_from is null
            or second_window.valid_to is null
            or first_window.valid_from < second_window.valid_to
        )
        and (
            second_window.valid_from is null
            or first_window.valid_to is null
            or second_window.valid_from < first_window.valid_to
        )
),

final as (
    select * from overlapping_pairs
)

select * from final
