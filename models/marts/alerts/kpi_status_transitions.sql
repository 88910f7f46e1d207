-- One row per change of light in kpi_status_history: per tenant, KPI and grain, ordered by
-- seen_at then period_start, a recorded light that differs from the one before it (any
-- period), or the first. `transition` (what alerts are about) compares the light with the
-- reference light: the latest earlier light that is not a period-opening NO_DATA (the
-- first light recorded for a period, NO_DATA: a new period without data yet, not a KPI
-- that lost its data).
with

history as (
    select * from {{ ref('kpi_status_history') }}
),

sequenced as (
    select
        history.*,
        row_number() over (
            partition by tenant_id, kpi_name, grain
            order by seen_at, period_start
        ) as sequence_number,
        row_number() over (
            partition by tenant_id, kpi_name, grain, period_start
            order by seen_at
        ) as period_sequence_number,
        lag(status) over (
            partition by tenant_id, kpi_name, grain
            order by seen_at, period_start
        ) as previous_status,
        lag(period_start) over (
            partition by tenant_id, kpi_name, grain
            order by seen_at, period_start
        ) as previous_period_start
    from history
),

classified as (
    select
        sequenced.*,
        case
            when status = 'NO_DATA' and period_sequence_number = 1 then true
            else false
        end as is_period_opening_no_data
    from sequenced
),

referenced as (
    -- the sequence number of the latest earlier row that is not a period-opening NO_DATA
    -- (a running max over the earlier rows: portable, no IGNORE NULLS)
    select
        classified.*,
        max(
            case when not is_period_opening_no_data then sequence_number end
        ) over (
            partition by tenant_id, kpi_name, grain
            order by sequence_number
            rows between unbounded preceding and 1 preceding
        ) as reference_sequence_number
    from classified
),

with_reference as (
    select
        referenced.*,
        reference_rows.status as reference_status
    from referenced
    left join classified as reference_rows
        on referenced.tenant_id = reference_rows.tenant_id
        and referenced.kpi_name = reference_rows.kpi_name
        and referenced.grain = reference_rows.grain
        and referenced.reference_sequence_number = reference_rows.sequence_number
),

changes as (
    select * from with_reference
    where previous_status is null
        or previous_status <> status
),

final as (
    select
        -- keys
        cast({{ dbt.hash(dbt.concat([
            "coalesce(cast(tenant_id as " ~ dbt.type_string() ~ "), '')", "'|'",
            "coalesce(cast(kpi_name as " ~ dbt.type_string() ~ "), '')", "'|'",
            "coalesce(cast(grain as " ~ dbt.type_string() ~ "), '')", "'|'",
            "coalesce(cast(period_start as " ~ dbt.type_string() ~ "), '')", "'|'",
            "coalesce(cast(seen_at as " ~ dbt.type_string() ~ "), '')",
        ])) }} as {{ dbt.type_string() }}) as transition_key,
        cast(tenant_id as bigint) as tenant_id,
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(grain as {{ dbt.type_string() }}) as grain,
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end,
        -- the change
        cast(previous_status as {{ dbt.type_string() }}) as previous_status,
        cast(previous_period_start as date) as previous_period_start,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(
            case
                when status = 'RED'
                    and (reference_status is null or reference_status <> 'RED')
                    then 'TURNED_RED'
                when status = 'YELLOW'
                    and (reference_status is null or reference_status <> 'YELLOW')
                    then 'TURNED_YELLOW'
                when status = 'GREEN'
                    and reference_status in ('RED', 'YELLOW', 'NO_DATA')
                    then 'RECOVERED'
                when status = 'NO_DATA'
                    and not is_period_opening_no_data
                    and reference_status in ('GREEN', 'YELLOW', 'RED')
                    then 'NO_DATA'
            end as {{ dbt.type_string() }}
        ) as transition,
        -- measures
        cast(value as {{ type_double() }}) as value,
        cast(target as {{ type_double() }}) as target,
        cast(achievement_pct as {{ type_double() }}) as achievement_pct,
        -- timestamps (UTC)
        cast(as_of as timestamp) as as_of,
        cast(seen_at as timestamp) as seen_at
    from changes
)

select * from final
