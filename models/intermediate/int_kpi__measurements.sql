-- Every KPI measurement of every KPI model, in the one shape the engine aggregates:
-- measurement_key, the request measured (sr_id; null for deployments and custom KPIs),
-- tenant_id, kpi_name, measured_at (UTC) and its local date in the tenant's timezone,
-- numerator, denominator. Only what counts as of as_of: STOCK changes strictly before
-- it, flows up to and including it.
-- Incremental: a windowed run replaces the measurements of the changed requests
-- (int_service_requests__changed) and those not tied to a request (recomputed whole:
-- deployments are a tenth of the requests), and records the difference in the daily sums
-- in the ledger int_kpi__measurement_changes, in the same transaction; other runs
-- rebuild it whole (and int_kpi__daily_measures with it).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook=[
            "{{ record_measurement_changes(-1) }}",
            "{{ delete_changed_requests(also='sr_id is null') }}",
        ],
        post_hook="{{ record_measurement_changes(1) }}",
    )
}}
-- depends_on: {{ ref('int_kpi__measurement_changes') }}  (written by the hooks)
-- depends_on: {{ ref('int_service_requests__changed') }}
with

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

tenants as (
    select * from {{ ref('int_tenants__activity') }}
),

request_measurements as (
    select measurement_key, sr_id, tenant_id, kpi_name, measured_at, numerator, denominator
    from {{ ref('int_kpi__mttr') }}
    union all
    select measurement_key, sr_id, tenant_id, kpi_name, measured_at, numerator, denominator
    from {{ ref('int_kpi__fcr') }}
    union all
    select measurement_key, sr_id, tenant_id, kpi_name, measured_at, numerator, denominator
    from {{ ref('int_kpi__sla_compliance') }}
    union all
    select measurement_key, sr_id, tenant_id, kpi_name, measured_at, numerator, denominator
    from {{ ref('int_kpi__sr_backlog') }}
),

other_measurements as (
    select measurement_key, tenant_id, kpi_name, measured_at, numerator, denominator
    from {{ ref('int_kpi__deploy_success_rate') }}
    union all
    select measurement_key, tenant_id, kpi_name, measured_at, numerator, denominator
    from {{ ref('int_kpi__custom') }}
),

in_scope as (
    select
        cast(measurement_key as {{ dbt.type_string() }}) as measurement_key,
        cast(sr_id as bigint) as sr_id,
        cast(tenant_id as bigint) as tenant_id,
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(measured_at as timestamp) as measured_at,
        cast(numerator as double precision) as numerator,
        cast(denominator as double precision) as denominator
    from request_measurements
    {%- if reprocess_window_start() is not none %}
    where sr_id in (select sr_id from {{ ref('int_service_requests__changed') }})
    {%- endif %}

    union all

    select
        cast(measurement_key as {{ dbt.type_string() }}) as measurement_key,
        cast(null as bigint) as sr_id,
        cast(tenant_id as bigint) as tenant_id,
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(measured_at as timestamp) as measured_at,
        cast(numerator as double precision) as numerator,
        cast(denominator as double precision) as denominator
    from other_measurements
),

counted as (
    -- what counts as of as_of (a measurement's KPI unknown to kpi_definitions is kept:
    -- its relationships test names it)
    select in_scope.*
    from in_scope
    left join definitions
        on in_scope.kpi_name = definitions.kpi_name
    where in_scope.measured_at is null
        or in_scope.measured_at < {{ as_of_timestamp() }}
        or (
            in_scope.measured_at = {{ as_of_timestamp() }}
            and coalesce(definitions.aggregation, '') <> 'STOCK'
        )
),

final as (
    select
        -- keys
        counted.measurement_key,
        counted.kpi_name,
        counted.sr_id,
        counted.tenant_id,
        -- timestamps (UTC) and the local day they fall on
        counted.measured_at,
        cast({{ utc_to_local('counted.measured_at', 'tenants.timezone') }} as date) as local_date,
        -- measures
        counted.numerator,
        counted.denominator
    from counted
    left join tenants
        on counted.tenant_id = tenants.tenant_id
)

select * from final
