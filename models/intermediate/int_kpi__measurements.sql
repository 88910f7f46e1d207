-- Every KPI measurement of every KPI model, in the one shape the engine aggregates:
-- measurement_key, tenant_id, kpi_name, measured_at (UTC), numerator, denominator.
with

built_in as (
    select * from {{ ref('int_kpi__mttr') }}
    union all
    select * from {{ ref('int_kpi__fcr') }}
    union all
    select * from {{ ref('int_kpi__sla_compliance') }}
    union all
    select * from {{ ref('int_kpi__sr_backlog') }}
    union all
    select * from {{ ref('int_kpi__deploy_success_rate') }}
),

custom as (
    select * from {{ ref('int_kpi__custom') }}
),

final as (
    select
        cast(measurement_key as {{ dbt.type_string() }}) as measurement_key,
        cast(tenant_id as bigint) as tenant_id,
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(measured_at as timestamp) as measured_at,
        cast(numerator as double precision) as numerator,
        cast(denominator as double precision) as denominator
    from built_in

    union all

    select
        cast(measurement_key as {{ dbt.type_string() }}) as measurement_key,
        cast(tenant_id as bigint) as tenant_id,
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(measured_at as timestamp) as measured_at,
        cast(numerator as double precision) as numerator,
        cast(denominator as double precision) as denominator
    from custom
)

select * from final
