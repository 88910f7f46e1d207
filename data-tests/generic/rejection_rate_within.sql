{#- Fails (warns, with severity warn) when the raw table `source_table` has more than
    rejection_rate_warn_pct() % of its rows rejected; returns that table's row of
    raw_data_quality with the threshold. -#}
{% test rejection_rate_within(model, source_table) %}
    select
        source_table,
        raw_rows,
        rejected_rows,
        rejection_rate_pct,
        cast({{ rejection_rate_warn_pct() }} as {{ type_double() }}) as threshold_pct
    from {{ model }}
    where source_table = '{{ source_table }}'
        and rejection_rate_pct > {{ rejection_rate_warn_pct() }}
{% endtest %}
