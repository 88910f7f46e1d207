{#- The sums of `measures` per tenant, KPI, breakdown, breakdown_value and, when `period`
    names one of its period columns, period_start: one row per slice of
    kpi_period_values(by_breakdown=true), from `combinations` (a relation or a
    parenthesised, aliased subquery of breakdown_combinations' rows), restricted by
    `where` (a condition on its columns, e.g. the grain's dates). `slices`: (subject,
    breakdown, attribute column) of every breakdown, the subject being what a measurement
    measures (REQUEST when it names a request, DEPLOYMENT when it names a deployment).
    GROUPING SETS over the attributes: no attribute of a combination is null, so in the
    set of one attribute that attribute is the only one not null, and names the
    breakdown. Joining every measurement to its breakdowns first multiplied the rows by
    four before grouping them (1M requests: 17 million rows sorted on disk, per grain, on
    PostgreSQL, 90 s). The sets that do not belong to what a measurement measures (a
    request's environment, a deployment's team) are dropped after the grouping;
    measurements of neither (custom KPIs without a request) have no breakdown. -#}
{% macro breakdown_sums(slices, combinations, period=none, measures=['numerator', 'denominator'], where=none) -%}
{%- set attributes = [] -%}
{%- for subject, breakdown, column in slices -%}
    {%- if (column, breakdown) not in attributes -%}
        {%- do attributes.append((column, breakdown)) -%}
    {%- endif -%}
{%- endfor -%}
{%- set keys = ['tenant_id', 'kpi_name', 'subject'] + ([period] if period else []) -%}
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
        {%- if period %}
        {{ period }} as period_start,
        {%- endif %}
        {{ measures | join(', ') }}
    from (
        select
            {{ keys | join(', ') }},
            {%- for column, breakdown in attributes %}
            {{ column }},
            {%- endfor %}
            {%- for measure in measures %}
            sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ combinations }}
        {%- if where %}
        where {{ where }}
        {%- endif %}
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
