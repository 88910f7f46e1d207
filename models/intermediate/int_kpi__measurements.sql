-- Every KPI measurement of every KPI model, in the one shape the engine aggregates:
-- measurement_key, the request or deployment measured, tenant_id, kpi_name, measured_at
-- (UTC) and its local date in the tenant's timezone, numerator, denominator, and the
-- dimensions of what was measured (a request's team, service, priority and request type,
-- a deployment's service and environment: the breakdowns are an aggregation of these
-- rows). Only what counts as of as_of: STOCK changes strictly before it, flows up to and
-- including it.
-- numerator and denominator are stored as exact decimals (exact_decimal, numeric(38, 12)),
-- the type every sum of them takes: each is converted once here rather than on every pass
-- of the period values over it (PostgreSQL converts a double to numeric through its
-- text: 1M requests, the sums of one grain's full build spent 6.8 of 9.7 s on it).
-- Incremental (strategy `replace`, see get_incremental_replace_sql): a windowed run
-- recomputes the measurements of the changed requests (int_service_requests__changed)
-- and those not tied to a request (recomputed whole: deployments are a tenth of the
-- requests); other runs recompute every row.
{{
    config(
        materialized='incremental',
        incremental_strategy='replace',
        on_schema_change='sync_all_columns',
        meta={'replace_scope': 'reprocessed_requests', 'replace_also': 'sr_id is null'},
    )
}}
-- depends_on: {{ ref('int_service_requests__changed') }}
with

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

tenants as (
    select * from {{ ref('int_tenants__activity') }}
),

requests as (
    select * from {{ ref('int_service_requests__lifecycle') }}
    {%- if reprocess_window_start() is not none %}
    where sr_id in (select sr_id from {{ ref('int_service_requests__changed') }})
    {%- endif %}
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

deployment_measurements as (
    select
        measurement_key, deployment_id, tenant_id, kpi_name, measured_at, numerator,
        denominator, service, environment
    from {{ ref('int_kpi__deploy_success_rate') }}
    {%- for dora_kpi in ['deployment_frequency', 'change_lead_time', 'change_failure_rate',
        'failed_deployment_recovery_time', 'deployment_rework_rate'] %}
    union all
    select
        measurement_key, deployment_id, tenant_id, kpi_name, measured_at, numerator,
        denominator, service, environment
    from {{ ref('int_kpi__' ~ dora_kpi) }}
    {%- endfor %}
),

custom_measurements as (
    select measurement_key, tenant_id, kpi_name, measured_at, numerator, denominator
    from {{ ref('int_kpi__custom') }}
),

in_scope as (
    select
        cast(request_measurements.measurement_key as {{ dbt.type_string() }}) as measurement_key,
        cast(request_measurements.sr_id as bigint) as sr_id,
        cast(null as bigint) as deployment_id,
        cast(request_measurements.tenant_id as bigint) as tenant_id,
        cast(request_measurements.kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(request_measurements.measured_at as timestamp) as measured_at,
        {{ exact_decimal('request_measurements.numerator') }} as numerator,
        {{ exact_decimal('request_measurements.denominator') }} as denominator,
        cast(requests.team as {{ dbt.type_string() }}) as team,
        cast(requests.service as {{ dbt.type_string() }}) as service,
        cast(requests.priority as {{ dbt.type_string() }}) as priority,
        cast(requests.request_type as {{ dbt.type_string() }}) as request_type,
        cast(null as {{ dbt.type_string() }}) as environment
    from request_measurements
    left join requests
        on request_measurements.sr_id = requests.sr_id
    {%- if reprocess_window_start() is not none %}
    -- a windowed run: the changed requests' measurements only
    where request_measurements.sr_id in (
        select sr_id from {{ ref('int_service_requests__changed') }}
    )
    {%- endif %}

    union all

    select
        cast(measurement_key as {{ dbt.type_string() }}) as measurement_key,
        cast(null as bigint) as sr_id,
        cast(deployment_id as bigint) as deployment_id,
        cast(tenant_id as bigint) as tenant_id,
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(measured_at as timestamp) as measured_at,
        {{ exact_decimal('numerator') }} as numerator,
        {{ exact_decimal('denominator') }} as denominator,
        cast(null as {{ dbt.type_string() }}) as team,
        cast(service as {{ dbt.type_string() }}) as service,
        cast(null as {{ dbt.type_string() }}) as priority,
        cast(null as {{ dbt.type_string() }}) as request_type,
        cast(environment as {{ dbt.type_string() }}) as environment
    from deployment_measurements

    union all

    select
        cast(measurement_key as {{ dbt.type_string() }}) as measurement_key,
        cast(null as bigint) as sr_id,
        cast(null as bigint) as deployment_id,
        cast(tenant_id as bigint) as tenant_id,
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(measured_at as timestamp) as measured_at,
        {{ exact_decimal('numerator') }} as numerator,
        {{ exact_decimal('denominator') }} as denominator,
        cast(null as {{ dbt.type_string() }}) as team,
        cast(null as {{ dbt.type_string() }}) as service,
        cast(null as {{ dbt.type_string() }}) as priority,
        cast(null as {{ dbt.type_string() }}) as request_type,
        cast(null as {{ dbt.type_string() }}) as environment
    from custom_measurements
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
        counted.deployment_id,
        counted.tenant_id,
        -- timestamps (UTC) and the local day they fall on
        counted.measured_at,
        cast({{ utc_to_local('counted.measured_at', 'tenants.timezone') }} as date) as local_date,
        -- measures
        counted.numerator,
        counted.denominator,
        -- dimensions (breakdowns)
        counted.team,
        counted.service,
        counted.priority,
        counted.request_type,
        counted.environment
    from counted
    left join tenants
        on counted.tenant_id = tenants.tenant_id
)

select * from final
