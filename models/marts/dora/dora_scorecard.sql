-- The DORA scorecard: one row per tenant, grain, local period and service (null: the
-- tenant's total, from fct_kpi_values; a service's row, from fct_kpi_breakdowns' SERVICE
-- slices, exists when one of the five KPIs has a measurement for it in the period, at the
-- grains the breakdowns have: var breakdown_grains, weekly and monthly by default), with
-- the five values and the performance level of four of them (seeds/dora_benchmarks, the
-- set var dora_benchmark_set names): a LOWER_BETTER value gets the best level whose
-- threshold is at or above it, DEPLOYMENT_FREQUENCY the best level whose threshold is at
-- or below it, a null threshold is the catch-all; levels are read on the value as rounded
-- (the stored value); no value, no level. overall_level is the worst level present.
with

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

benchmarks as (
    select * from {{ ref('dora_benchmarks') }}
    where benchmark_set = {{ dora_benchmark_set() }}
),

tenant_values as (
    select
        tenant_id,
        grain,
        period_start,
        cast(null as {{ dbt.type_string() }}) as service,
        kpi_name,
        period_end,
        is_complete,
        as_of,
        value
    from {{ ref('fct_kpi_values') }}
    where kpi_name in (
        'DEPLOYMENT_FREQUENCY', 'CHANGE_LEAD_TIME', 'CHANGE_FAILURE_RATE',
        'FAILED_DEPLOYMENT_RECOVERY_TIME', 'DEPLOYMENT_REWORK_RATE'
    )
),

service_values as (
    select
        tenant_id,
        grain,
        period_start,
        breakdown_value as service,
        kpi_name,
        period_end,
        is_complete,
        as_of,
        value
    from {{ ref('fct_kpi_breakdowns') }}
    where breakdown = 'SERVICE'
        and kpi_name in (
            'DEPLOYMENT_FREQUENCY', 'CHANGE_LEAD_TIME', 'CHANGE_FAILURE_RATE',
            'FAILED_DEPLOYMENT_RECOVERY_TIME', 'DEPLOYMENT_REWORK_RATE'
        )
),

dora_values as (
    select * from tenant_values
    union all
    select * from service_values
),

leveled as (
    -- each value with its level rank: the best (lowest) rank whose threshold it meets
    -- (none without a value, or for a KPI without benchmarks)
    select
        dora_values.tenant_id,
        dora_values.grain,
        dora_values.period_start,
        dora_values.service,
        dora_values.kpi_name,
        dora_values.period_end,
        dora_values.is_complete,
        dora_values.as_of,
        dora_values.value,
        min(benchmarks.level_rank) as level_rank
    from dora_values
    inner join definitions
        on dora_values.kpi_name = definitions.kpi_name
    left join benchmarks
        on dora_values.kpi_name = benchmarks.kpi_name
        and dora_values.value is not null
        and (
            benchmarks.threshold is null
            or (definitions.direction = 'LOWER_BETTER' and dora_values.value <= benchmarks.threshold)
            or (definitions.direction = 'HIGHER_BETTER' and dora_values.value >= benchmarks.threshold)
        )
    group by
        dora_values.tenant_id,
        dora_values.grain,
        dora_values.period_start,
        dora_values.service,
        dora_values.kpi_name,
        dora_values.period_end,
        dora_values.is_complete,
        dora_values.as_of,
        dora_values.value
),

level_names as (
    select distinct level_rank, level from benchmarks
),

pivoted as (
    select
        tenant_id,
        grain,
        period_start,
        service,
        max(period_end) as period_end,
        max(case when is_complete then 1 else 0 end) = 1 as is_complete,
        max(as_of) as as_of,
        max(case when kpi_name = 'DEPLOYMENT_FREQUENCY' then value end) as deployment_frequency,
        max(case when kpi_name = 'CHANGE_LEAD_TIME' then value end) as change_lead_time_hours,
        max(case when kpi_name = 'CHANGE_FAILURE_RATE' then value end) as change_failure_rate_pct,
        max(case when kpi_name = 'FAILED_DEPLOYMENT_RECOVERY_TIME' then value end)
            as failed_deployment_recovery_time_hours,
        max(case when kpi_name = 'DEPLOYMENT_REWORK_RATE' then value end) as deployment_rework_rate_pct,
        max(case when kpi_name = 'DEPLOYMENT_FREQUENCY' then level_rank end) as deployment_frequency_rank,
        max(case when kpi_name = 'CHANGE_LEAD_TIME' then level_rank end) as change_lead_time_rank,
        max(case when kpi_name = 'CHANGE_FAILURE_RATE' then level_rank end) as change_failure_rate_rank,
        max(case when kpi_name = 'FAILED_DEPLOYMENT_RECOVERY_TIME' then level_rank end)
            as failed_deployment_recovery_time_rank,
        -- the worst level present
        max(level_rank) as worst_level_rank
    from leveled
    group by tenant_id, grain, period_start, service
),

final as (
    select
        -- keys
        cast(pivoted.tenant_id as bigint) as tenant_id,
        cast(pivoted.grain as {{ dbt.type_string() }}) as grain,
        cast(pivoted.period_start as date) as period_start,
        cast(pivoted.service as {{ dbt.type_string() }}) as service,
        -- period
        cast(pivoted.period_end as date) as period_end,
        cast(pivoted.is_complete as boolean) as is_complete,
        cast(pivoted.as_of as timestamp) as as_of,
        -- values
        cast(pivoted.deployment_frequency as {{ type_double() }}) as deployment_frequency,
        cast(pivoted.change_lead_time_hours as {{ type_double() }}) as change_lead_time_hours,
        cast(pivoted.change_failure_rate_pct as {{ type_double() }}) as change_failure_rate_pct,
        cast(pivoted.failed_deployment_recovery_time_hours as {{ type_double() }})
            as failed_deployment_recovery_time_hours,
        cast(pivoted.deployment_rework_rate_pct as {{ type_double() }}) as deployment_rework_rate_pct,
        -- levels
        cast(deployment_frequency_levels.level as {{ dbt.type_string() }}) as deployment_frequency_level,
        cast(change_lead_time_levels.level as {{ dbt.type_string() }}) as change_lead_time_level,
        cast(change_failure_rate_levels.level as {{ dbt.type_string() }}) as change_failure_rate_level,
        cast(failed_deployment_recovery_time_levels.level as {{ dbt.type_string() }})
            as failed_deployment_recovery_time_level,
        cast(overall_levels.level as {{ dbt.type_string() }}) as overall_level
    from pivoted
    left join level_names as deployment_frequency_levels
        on pivoted.deployment_frequency_rank = deployment_frequency_levels.level_rank
    left join level_names as change_lead_time_levels
        on pivoted.change_lead_time_rank = change_lead_time_levels.level_rank
    left join level_names as change_failure_rate_levels
        on pivoted.change_failure_rate_rank = change_failure_rate_levels.level_rank
    left join level_names as failed_deployment_recovery_time_levels
        on pivoted.failed_deployment_recovery_time_rank = failed_deployment_recovery_time_levels.level_rank
    left join level_names as overall_levels
        on pivoted.worst_level_rank = overall_levels.level_rank
)

select * from final
