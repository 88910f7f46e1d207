-- KPI measurements summed per tenant, KPI and local day (the tenant's timezone), with the
-- ISO week and month holding the day: the one scan of the facts every grain is built from.
-- Sums are exact decimals, so adding and removing measurements gives the same sum as a
-- fresh scan.
-- Incremental: a windowed run adds the changes recorded in the ledger
-- int_kpi__measurement_changes to the days they touch (a day left without measurements
-- goes), then empties the ledger, in one transaction; other runs rebuild it whole.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'kpi_name', 'local_date'],
        on_schema_change='sync_all_columns',
        pre_hook="{{ empty_table_on_full_run() }}",
        post_hook=[
            "delete from {{ this }} where measurement_count = 0",
            "{{ empty_table(ref('int_kpi__measurement_changes')) }}",
        ],
    )
}}
-- depends_on: {{ ref('int_kpi__measurement_changes') }}
with

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

{%- if reprocess_window_start() is not none %}

changes as (
    select * from {{ ref('int_kpi__measurement_changes') }}
),

current_days as (
    select * from {{ this }}
),

net_changes as (
    select
        changes.tenant_id,
        changes.kpi_name,
        changes.local_date,
        sum(changes.numerator) as numerator,
        sum(changes.denominator) as denominator,
        sum(changes.measurement_count) as measurement_count
    from changes
    inner join definitions
        on changes.kpi_name = definitions.kpi_name
    group by changes.tenant_id, changes.kpi_name, changes.local_date
),

daily as (
    -- the days whose sums changed: their current sums plus the net change
    select
        net_changes.tenant_id,
        net_changes.kpi_name,
        net_changes.local_date,
        coalesce(current_days.numerator, 0) + coalesce(net_changes.numerator, 0) as numerator,
        case
            when current_days.denominator is null and net_changes.denominator is null then null
            else coalesce(current_days.denominator, 0) + coalesce(net_changes.denominator, 0)
        end as denominator,
        coalesce(current_days.measurement_count, 0) + net_changes.measurement_count
            as measurement_count
    from net_changes
    left join current_days
        on net_changes.tenant_id = current_days.tenant_id
        and net_changes.kpi_name = current_days.kpi_name
        and net_changes.local_date = current_days.local_date
    where net_changes.measurement_count <> 0
        or net_changes.numerator <> 0
        or net_changes.denominator <> 0
),

{%- else %}

measurements as (
    select * from {{ ref('int_kpi__measurements') }}
),

daily as (
    select
        measurements.tenant_id,
        measurements.kpi_name,
        measurements.local_date,
        sum({{ exact_decimal('measurements.numerator') }}) as numerator,
        sum({{ exact_decimal('measurements.denominator') }}) as denominator,
        count(*) as measurement_count
    from measurements
    inner join definitions
        on measurements.kpi_name = definitions.kpi_name
    where measurements.local_date is not null
    group by measurements.tenant_id, measurements.kpi_name, measurements.local_date
),

{%- endif %}

final as (
    select
        -- keys
        cast(tenant_id as bigint) as tenant_id,
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(local_date as date) as local_date,
        -- attributes
        {{ period_start('week', 'local_date') }} as week_start,
        {{ period_start('month', 'local_date') }} as month_start,
        -- measures (exact sums)
        {{ exact_decimal('numerator') }} as numerator,
        {{ exact_decimal('denominator') }} as denominator,
        cast(measurement_count as bigint) as measurement_count
    from daily
)

select * from final
