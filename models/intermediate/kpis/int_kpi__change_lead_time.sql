-- CHANGE_LEAD_TIME measurements: one per production deployment with status DEPLOYED
-- finished by as_of whose commit_at is set and not after finished_at, at its finished_at;
-- numerator = hours from commit_at to finished_at (exact seconds / 3600), denominator = 1
-- (a PERCENTILE KPI: the period's median). A commit_at after finished_at is left out and
-- flagged (marts.flagged_raw_rows, COMMIT_AFTER_FINISHED).
with

deployments as (
    select * from {{ ref('int_deployments__production') }}
    where is_production
),

final as (
    select
        'deployment-' || cast(deployment_id as {{ dbt.type_string() }}) as measurement_key,
        deployment_id,
        tenant_id,
        cast('CHANGE_LEAD_TIME' as {{ dbt.type_string() }}) as kpi_name,
        finished_at as measured_at,
        cast({{ hours_between('commit_at', 'finished_at') }} as {{ type_double() }}) as numerator,
        cast(1.0 as {{ type_double() }}) as denominator,
        service,
        environment
    from deployments
    where status = 'DEPLOYED'
        and finished_at <= {{ as_of_timestamp() }}
        and commit_at is not null
        and commit_at <= finished_at
)

select * from final
