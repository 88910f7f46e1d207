{#- The exact sums of numerator and denominator of the measurements read by `from_where`
    (a `from ... where ...` clause naming int_kpi__measurements `measurements` and
    kpi_definitions `definitions`), per tenant, KPI, breakdown, breakdown_value and, when
    `period_expression` is given, period_start: one row per slice of
    kpi_period_values(by_breakdown=true). `slices`: (subject, breakdown, attribute
    column) of every breakdown, the subject being what a measurement measures (REQUEST
    when it names a request, DEPLOYMENT when it names a deployment).
    One pass with GROUPING SETS over the attributes, each trimmed and
    '(none)' when null or empty, so no value of a grouped attribute is null: in the set
    of one attribute, that attribute is the only one not null, and names the breakdown.
    Joining every measurement to its breakdowns first multiplied the rows by four before
    grouping them (1M requests: 17 million rows sorted on disk, per grain, on
    PostgreSQL, 90 s); the measurements are first added up per combination of all the
    attributes (the exact decimal sums done once; 1M, weekly: 4.4 million rows to 1.1
    million), and the grouping sets add up those (weekly sums on a loaded machine: 37 s
    in one step, 18 s in two). The sets that do not
    belong to what a measurement measures (a request's environment, a deployment's team)
    are dropped after the grouping; measurements of neither (custom KPIs without a
    request) have no breakdown. -#}
{% macro breakdown_sums(slices, from_where, period_expression=none) -%}
{%- set attributes = [] -%}
{%- for subject, breakdown, column in slices -%}
    {%- if (column, breakdown) not in attributes -%}
        {%- do attributes.append((column, breakdown)) -%}
    {%- endif -%}
{%- endfor -%}
{%- set keys = ['tenant_id', 'kpi_name', 'subject'] + (['period_start'] if period_expression else []) -%}
    select
        tenant_id,
        kpi_name,
        cast(case
            {%- for column, breakdown in attributes %}
            when {{ column }} is not null then '{{ breakdown }}'
            {%- endfor %}
        end as {{ dbt.type_string() }}) as breakdown,
        cast(coalesce({{ attributes | map('first') | join(', ') }}) as {{ dbt.type_string() }})
            as breakdown_value,
        {%- if period_expression %}
        period_start,
        {%- endif %}
        numerator,
        denominator
    from (
        select
            {{ keys | join(', ') }},
            {%- for column, breakdown in attributes %}
            {{ column }},
            {%- endfor %}
            sum(numerator) as numerator,
            sum(denominator) as denominator
        from (
            -- every combination of the attributes first: the sets below add up fewer rows
            select
                {{ keys | join(', ') }},
                {%- for column, breakdown in attributes %}
                {{ column }},
                {%- endfor %}
                sum({{ exact_decimal('numerator') }}) as numerator,
                sum({{ exact_decimal('denominator') }}) as denominator
            from (
            select
                measurements.tenant_id,
                measurements.kpi_name,
                {%- if period_expression %}
                {{ period_expression }} as period_start,
                {%- endif %}
                {{ sliced_measurement_columns(slices) }}
                measurements.numerator,
                measurements.denominator
            {{ from_where }}
            ) as attributed
            group by {{ keys | join(', ') }}, {{ attributes | map('first') | join(', ') }}
        ) as combined
        group by grouping sets (
            {%- for column, breakdown in attributes %}
            ({{ keys | join(', ') }}, {{ column }}){{ ',' if not loop.last }}
            {%- endfor %}
        )
    ) as grouped
    where
    {%- for subject, breakdown, column in slices %}
        {{ 'or ' if not loop.first }}(subject = '{{ subject }}' and {{ column }} is not null)
    {%- endfor %}
{%- endmacro %}
