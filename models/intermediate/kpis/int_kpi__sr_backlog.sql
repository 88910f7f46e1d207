-- SR_BACKLOG changes (a STOCK KPI): +1 when a request is created, then -1 / +1 each time
-- its timeline moves between open and closed (DONE or CANCELLED). The backlog at a cutoff
-- is the sum of the changes measured strictly before it.
with

timeline as (
    select * from {{ ref('int_service_requests__status_timeline') }}
),

requests as (
    select * from {{ ref('int_service_requests__lifecycle') }}
),

creations as (
    select
        'sr-' || cast(sr_id as {{ dbt.type_string() }}) || '-created' as measurement_key,
        sr_id,
        tenant_id,
        created_at as measured_at,
        1.0 as delta
    from requests
),

status_moves as (
    select
        'sr-' || cast(sr_id as {{ dbt.type_string() }})
            || '-status-' || cast(status_sequence as {{ dbt.type_string() }}) as measurement_key,
        sr_id,
        tenant_id,
        -- a change recorded before creation takes effect at creation
        case when status_at > created_at then status_at else created_at end as measured_at,
        (case when status in ('DONE', 'CANCELLED') then 0.0 else 1.0 end)
        - (case when previous_status in ('DONE', 'CANCELLED') then 0.0 else 1.0 end) as delta
    from timeline
),

changes as (
    select * from creations
    union all
    select * from status_moves
    where delta <> 0
),

final as (
    select
        cast(measurement_key as {{ dbt.type_string() }}) as measurement_key,
        cast(sr_id as bigint) as sr_id,
        tenant_id,
        cast('SR_BACKLOG' as {{ dbt.type_string() }}) as kpi_name,
        measured_at,
        cast(delta as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator
    from changes
)

select * from final
