-- The drill-down: one row per measurement that counts in a flow KPI's value (every KPI
-- whose aggregation is not STOCK, custom KPIs included), with the periods of each grain it
-- counts in and the dimensions of what was measured. Filtering it on one tenant, KPI and
-- period (local_date, week_start or month_start) and summing numerator and denominator
-- gives that period's numerator and denominator in fct_kpi_values; for a PERCENTILE KPI
-- the rows are the values ranked (measured_value), their count the fact's denominator.
-- A measurement counts as int_kpi__period_values counts it: its KPI is defined, it has a
-- local date, and a PERCENTILE measurement has a value.
-- Incremental (strategy `replace`), like int_kpi__measurements: a windowed run replaces
-- the rows of the changed requests (int_service_requests__changed) and those not tied to
-- a request (deployments, custom KPIs: recomputed whole); other runs replace every row.
{{
    config(
        materialized='incremental',
        incremental_strategy='replace',
        on_schema_change='fail',
        meta={'replace_scope': 'reprocessed_requests', 'replace_also': 'sr_id is null'},
    )
}}
-- depends_on: {{ ref('int_service_requests__changed') }}
with

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

measurements as (
    select * from {{ ref('int_kpi__measurements') }}
    {%- if reprocess_window_start() is not none %}
    -- a windowed run: the changed requests' measurements, and those without a request
    where sr_id in (select sr_id from {{ ref('int_service_requests__changed') }})
        or sr_id is null
    {%- endif %}
),

counted as (
    -- what int_kpi__period_values aggregates for the flow KPIs
    select
        measurements.*,
        definitions.aggregation
    from measurements
    inner join definitions
        on measurements.kpi_name = definitions.kpi_name
    where definitions.aggregation in ('RATIO', 'SUM', 'PERCENTILE')
        and measurements.local_date is not null
        and (definitions.aggregation <> 'PERCENTILE' or measurements.numerator is not null)
),

final as (
    select
        -- keys
        cast(counted.tenant_id as bigint) as tenant_id,
        cast(counted.kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(counted.measurement_key as {{ dbt.type_string() }}) as measurement_key,
        cast(counted.sr_id as bigint) as sr_id,
        cast(counted.deployment_id as bigint) as deployment_id,
        -- the periods it counts in (local, as the fact tables': weeks start Monday)
        cast(counted.local_date as date) as local_date,
        {{ period_start('week', 'counted.local_date') }} as week_start,
        {{ period_start('month', 'counted.local_date') }} as month_start,
        -- measures: what it adds to the period's numerator and denominator
        cast(case
            when counted.aggregation in ('RATIO', 'SUM') then counted.numerator
        end as {{ type_double() }}) as numerator,
        cast(case
            when counted.aggregation = 'RATIO' then counted.denominator
            when counted.aggregation = 'PERCENTILE' then 1
        end as {{ type_double() }}) as denominator,
        -- its own value, before value_multiplier (the hours for MTTR and the percentiles)
        cast(case
            when counted.aggregation = 'RATIO' and counted.denominator <> 0
                then cast(counted.numerator as {{ type_double() }})
                    / cast(counted.denominator as {{ type_double() }})
            when counted.aggregation in ('SUM', 'PERCENTILE') then counted.numerator
        end as {{ type_double() }}) as measured_value,
        -- dimensions (the request's or the deployment's)
        cast(counted.team as {{ dbt.type_string() }}) as team,
        cast(counted.service as {{ dbt.type_string() }}) as service,
        cast(counted.priority as {{ dbt.type_string() }}) as priority,
        cast(counted.request_type as {{ dbt.type_string() }}) as request_type,
        cast(counted.environment as {{ dbt.type_string() }}) as environment,
        -- timestamps (UTC)
        cast(counted.measured_at as timestamp) as measured_at
    from counted
)

select * from final
