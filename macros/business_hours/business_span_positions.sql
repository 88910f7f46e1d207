{#- A select of the business clock's positions at both ends of each span: for each row of
    `spans` (a relation or CTE with columns calendar_name, timezone, span_start_at,
    span_end_at and the `key_columns`), the calendar's positions (business_position) at
    span_start_at (column start_position) and at span_end_at (end_position). A span's
    business seconds are end_position - start_position. Both ends are positioned in one
    pass (one equality join on the local date, see business_position); an end outside the
    intervals' range leaves its position null. -#}
{% macro business_span_positions(spans, intervals, key_columns) -%}
    {%- set edges -%}
    (
        {%- for is_span_end, instant_column in [(0, 'span_start_at'), (1, 'span_end_at')] %}
        select
            {%- for column in key_columns %}
            {{ column }},
            {%- endfor %}
            calendar_name,
            timezone,
            cast({{ is_span_end }} as integer) as is_span_end,
            {{ instant_column }} as instant_at
        from {{ spans }}
        {%- if not loop.last %}

        union all
        {% endif %}
        {%- endfor %}
    )
    {%- endset -%}
    select
        {%- for column in key_columns %}
        edge_positions.{{ column }},
        {%- endfor %}
        sum(case when edge_positions.is_span_end = 0 then edge_positions.business_position end)
            as start_position,
        sum(case when edge_positions.is_span_end = 1 then edge_positions.business_position end)
            as end_position
    from (
        {{ business_position(edges, intervals, key_columns + ['is_span_end']) }}
    ) as edge_positions
    group by
        {%- for column in key_columns %}
        edge_positions.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
{%- endmacro %}
