-- Extension point for your own KPIs (see the README, "Add a KPI").
-- Replace this model's body with one `select` per custom KPI, joined by `union all`, each
-- returning the measurement shape:
--   measurement_key text (unique within the KPI: what was measured, e.g. 'sr-42'),
--   tenant_id bigint, kpi_name text (as in kpi_definitions.csv), measured_at timestamp
--   (UTC), numerator double precision, denominator double precision (null unless RATIO).
-- The engine aggregates them per tenant, local period and grain according to the KPI's
-- `aggregation` (RATIO, SUM or STOCK) in kpi_definitions.csv. Shipped empty.
with

final as (
    select
        cast(null as {{ dbt.type_string() }}) as measurement_key,
        cast(null as bigint) as tenant_id,
        cast(null as {{ dbt.type_string() }}) as kpi_name,
        cast(null as timestamp) as measured_at,
        cast(null as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator
    where 1 = 0
)

select * from final
