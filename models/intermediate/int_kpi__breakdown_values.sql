-- One row per tenant, enabled KPI, grain (those of var('breakdown_grains'), and every
-- KPI's default_grain for that KPI, the grain its scorecard card shows, in the period
-- holding as_of only), local period this run recomputes, breakdown and breakdown_value
-- with a measurement in the period: the
-- period values of int_kpi__period_values, computed by the same macro
-- (kpi_period_values) from the same measurements, grouped by two more keys.
--   breakdown        TEAM, SERVICE, PRIORITY, REQUEST_TYPE for measurements of a request
--                    (sr_id); SERVICE, ENVIRONMENT for those of a deployment; measurements
--                    of neither (custom KPIs) have no breakdowns
--   breakdown_value  the attribute trimmed (case kept), '(none)' when null or empty
-- A slice has a row when one of its measurements falls in the period; for a STOCK KPI
-- (SR_BACKLOG), when its level at the period's cutoff is above 0 (a request with that
-- value is open). The target is the tenant's; a KPI disabled for the tenant has no row.
-- Ephemeral, as int_kpi__period_values: compiled into fct_kpi_breakdowns with its run's
-- window.
{# a grain not in the var: only the KPIs whose default grain it is (SR_BACKLOG's DAILY),
   in the period of their scorecard card (holding as_of) -#}
{{ kpi_period_values(
    grains=['DAILY', 'WEEKLY', 'MONTHLY'],
    by_breakdown=true,
    card_only=['DAILY', 'WEEKLY', 'MONTHLY'] | reject('in', breakdown_grains()) | list,
) }}
