-- The changes to the daily sums that int_kpi__measurements made and int_kpi__daily_measures
-- has not applied yet (README, "Incremental runs"): a ledger. A windowed run of
-- int_kpi__measurements writes it from its own hooks, in its own transaction: the daily
-- sums of the rows it replaces, negated (pre-hook), then those of the rows it wrote
-- (post-hook). int_kpi__daily_measures adds them to its rows and empties the ledger, in
-- its transaction. A run that stops between the two leaves the changes here for the next
-- one, so no change is lost or applied twice. This model only creates the empty table.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}
with

final as (
    select
        -- keys
        cast(null as bigint) as tenant_id,
        cast(null as {{ dbt.type_string() }}) as kpi_name,
        cast(null as date) as local_date,
        -- measures (exact decimals: adding and removing the same values cancels exactly)
        {{ exact_decimal('null') }} as numerator,
        {{ exact_decimal('null') }} as denominator,
        cast(null as bigint) as measurement_count
    where 1 = 0
)

select * from final
