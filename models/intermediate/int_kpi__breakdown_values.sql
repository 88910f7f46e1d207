-- One row per tenant, enabled KPI, grain (those of var('breakdown_grains'), and every
-- KPI's default_grain for that KPI, the grain its scorecard card shows), local period this
-- run recomputes, breakdown and breakdown_value with a measurement in the period: the
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
{%- set grains = [] %}
{%- for grain in var('breakdown_grains') %}
    {%- if (grain | upper) not in ['DAILY', 'WEEKLY', 'MONTHLY'] %}
        {{ exceptions.raise_compiler_error("var breakdown_grains: unknown grain " ~ (grain | tojson) ~ " (DAILY, WEEKLY or MONTHLY)") }}
    {%- endif %}
    {%- do grains.append(grain | upper) %}
{%- endfor %}
{%- if not grains %}
    {{ exceptions.raise_compiler_error("var breakdown_grains: at least one of DAILY, WEEKLY, MONTHLY") }}
{%- endif %}
{# a grain not in the var: only the KPIs whose default grain it is (SR_BACKLOG's DAILY) -#}
{{ kpi_period_values(
    grains=['DAILY', 'WEEKLY', 'MONTHLY'],
    by_breakdown=true,
    default_grain_only=['DAILY', 'WEEKLY', 'MONTHLY'] | reject('in', grains) | list,
) }}
