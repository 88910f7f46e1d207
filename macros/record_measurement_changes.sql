{#- Hook of int_kpi__measurements on a windowed run (see reprocess_window_start): appends
    to the ledger int_kpi__measurement_changes the daily sums (per tenant, KPI and local
    day) of the rows the run replaces, those of the changed requests
    (int_service_requests__changed) and those not tied to a request. `sign` -1, as a
    pre-hook, records the rows about to be deleted, negated; `sign` 1, as a post-hook, the
    rows just written. Both run in the model's transaction, so the ledger always holds
    exactly the change int_kpi__daily_measures has yet to apply. Nothing on other runs,
    which rebuild the daily sums whole. -#}
{% macro record_measurement_changes(sign) -%}
    {%- if reprocess_window_start() is not none -%}
        {%- set negate = '-' if sign < 0 else '' -%}
        insert into {{ ref('int_kpi__measurement_changes') }}
            (tenant_id, kpi_name, local_date, numerator, denominator, measurement_count)
        select
            tenant_id,
            kpi_name,
            local_date,
            {{ negate }}sum({{ exact_decimal('numerator') }}),
            {{ negate }}sum({{ exact_decimal('denominator') }}),
            {{ negate }}count(*)
        from {{ this }}
        where local_date is not null
            and (
                sr_id in (select sr_id from {{ ref('int_service_requests__changed') }})
                or sr_id is null
            )
        group by tenant_id, kpi_name, local_date
    {%- endif -%}
{%- endmacro %}
