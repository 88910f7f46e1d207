-- SLA_COMPLIANCE measurements: one per resolved request that has an SLA policy, measured
-- at its resolution; numerator = 1 when it met the policy.
with

outcomes as (
    select * from {{ ref('int_service_requests__sla_outcomes') }}
),

final as (
    select
        'sr-' || cast(sr_id as {{ dbt.type_string() }}) as measurement_key,
        sr_id,
        tenant_id,
        cast('SLA_COMPLIANCE' as {{ dbt.type_string() }}) as kpi_name,
        resolved_at as measured_at,
        cast(case when is_compliant then 1.0 else 0.0 end as {{ type_double() }}) as numerator,
        cast(1.0 as {{ type_double() }}) as denominator
    from outcomes
)

select * from final
