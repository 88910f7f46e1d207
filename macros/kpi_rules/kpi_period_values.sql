{#- The SQL of the period values (int_kpi__period_values, int_kpi__breakdown_values): one
    row per tenant, KPI, grain of `grains` and local period that this run recomputes, with
    its value, numerator, denominator, target and traffic light; with `by_breakdown`, one
    row per slice of those: per breakdown (TEAM, SERVICE, PRIORITY, REQUEST_TYPE of a
    request's measurements; SERVICE, ENVIRONMENT of a deployment's) and breakdown_value
    (the attribute trimmed, '(none)' when null or empty). Both compute the same way:
    RATIO / SUM sums, STOCK running levels from an opening level, PERCENTILE ranks, the
    tenant's target of the period, the KPI's rounding and lights; a slice only groups its
    measurements by two more keys. A slice exists when one of its measurements falls in
    the period (STOCK: when its level at the period's cutoff is above 0, a request with
    that value open); a tenant row exists for every enabled KPI and recomputed period.
    A KPI's `breakdowns` (kpi_definitions, `|`-separated) restricts its slices to those
    breakdowns (blank: every breakdown of what it measures). A RATIO KPI whose
    `denominator_basis` is ELAPSED_DAYS (DEPLOYMENT_FREQUENCY) takes as denominator the
    number of local days of the period that start before as_of, not its measurements'
    denominators: for a tenant with at least one measurement of the KPI (by as_of), every
    period has a value (0 without a measurement in it); without any, the denominator is 0
    (no value). A slice keeps the tenant's denominator: only numerators add up, and it
    exists only when its numerator is above 0 (DEPLOYMENT_FREQUENCY: a DEPLOYED
    deployment in it; a rolled-back one measures 0).
    A grain of `card_only` is computed only for the KPIs whose default_grain it is, and
    only for the period holding as_of, whatever the window (the breakdowns of a grain not
    in var breakdown_grains: the slices of such a KPI's scorecard card). A PERCENTILE sorts each period's values once (an
    aggregate, sorted_array_agg) and reads the two around the position.
    The tenant's STOCK values are read from its daily net changes (int_kpi__stock_changes,
    added up once per run), not from the measurements: a period's net change is the sum
    of its days, an opening level the sum of the days before (before, each fact table
    summed every change of history before its window on every run: 1M requests,
    PostgreSQL, 8 of the monthly facts' 12.8 s in a daily run); the breakdowns read the
    measurements (a table of the daily changes per slice cost more to build than it
    saved). Work shared between the grains: the STOCK opening levels of every grain that
    reads from a later date (a window, a card's period) come from one pass
    (stock_openings, a column per grain), except a DAILY card's beside WEEKLY values of
    all history (a full build of the breakdowns), which adds up the weekly net changes
    before its week and reads the days from that week's Monday (no pass over every
    change of history); with
    by_breakdown on PostgreSQL (shares_breakdown_combinations), the weeks and months add
    up their measurements per combination of attributes in one
    pass (slice_combinations, keyed by both periods; 1M requests, the breakdowns' query:
    full build 129 s, now 106 s; a daily run's window 21.9 s, now 13.8 s, the same
    rows). -#}
{% macro kpi_period_values(grains=['DAILY', 'WEEKLY', 'MONTHLY'], by_breakdown=false, card_only=[]) -%}
{%- set slice_columns = ['breakdown', 'breakdown_value'] if by_breakdown else [] -%}
{%- set slice_keys = 'breakdown, breakdown_value,' if by_breakdown else '' -%}
{#- what a measurement measures, and its attributes that are breakdowns -#}
{%- set slices = [
    ('REQUEST', 'TEAM', 'team'), ('REQUEST', 'SERVICE', 'service'),
    ('REQUEST', 'PRIORITY', 'priority'), ('REQUEST', 'REQUEST_TYPE', 'request_type'),
    ('DEPLOYMENT', 'SERVICE', 'service'), ('DEPLOYMENT', 'ENVIRONMENT', 'environment'),
] -%}
with

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

targets as (
    select * from {{ ref('kpi_targets') }}
),

elapsed_days_tenants as (
    -- ELAPSED_DAYS KPIs: the tenants with at least one measurement of the KPI (by as_of)
    select * from {{ ref('int_kpi__elapsed_days_tenants') }}
),
{#- the local dates each grain reads (none: that side is open) #}
{%- set grain_dates = {} %}
{%- for grain in grains %}
{%- do grain_dates.update({grain: current_local_dates(grain) if grain in card_only else window_local_dates(grain)}) %}
{%- endfor %}
{#- with by_breakdown, the weeks and months (not a card's grain) add up their measurements
    per combination of attributes in one pass, slice_combinations -#}
{%- set shared_grains = [] %}
{%- for grain in grains %}
{%- if by_breakdown and grain not in card_only and grain != 'DAILY' %}
{%- do shared_grains.append(grain) %}
{%- endif %}
{%- endfor %}
{%- if shared_grains | length > 1 and shares_breakdown_combinations() %}
{%- set shared_periods = [] %}
{%- set shared_lowers = [] %}
{%- set shared_uppers = [] %}
{%- for grain in shared_grains %}
{%- do shared_periods.append((grain | lower ~ '_period_start', period_start('week' if grain == 'WEEKLY' else 'month', 'measurements.local_date'))) %}
{%- do shared_lowers.append(grain_dates[grain].lower) %}
{%- do shared_uppers.append(grain_dates[grain].upper) %}
{%- endfor %}
{%- set shared_filter -%}
    where measurements.local_date is not null
        and definitions.aggregation in ('RATIO', 'SUM', 'STOCK')
    {%- if none not in shared_lowers %}
        and measurements.local_date >= cast('{{ shared_lowers | min }}' as date)
    {%- endif %}
    {%- if none not in shared_uppers %}
        and measurements.local_date < cast('{{ shared_uppers | max }}' as date)
    {%- endif %}
{%- endset %}

slice_combinations as (
    -- RATIO, SUM and STOCK: the measurements of the periods the grains {{ shared_grains | join(' and ') }}
    -- read, added up per combination of attributes and of their periods, once for all
    -- of them (a week across two months is two combinations)
    {{ breakdown_combinations(
        slices,
        'from ' ~ ref('int_kpi__measurements') ~ ' as measurements
        inner join definitions
            on measurements.kpi_name = definitions.kpi_name
        ' ~ shared_filter,
        periods=shared_periods,
    ) }}
),
{%- else %}
{%- set shared_grains = [] %}
{%- endif %}
{#- STOCK: a DAILY card beside WEEKLY values over all of history (a full build of the
    breakdowns) opens from the weekly net changes: its level before the week holding its
    first date is the sum of the weeks before, and it reads the days from that week's
    Monday on (weekly_sums, not another pass over every change of history) -#}
{%- set stock_from_weekly = 'DAILY' in card_only and 'WEEKLY' in grains
    and 'WEEKLY' not in card_only
    and not grain_dates['WEEKLY'].lower and not grain_dates['WEEKLY'].upper %}
{%- if stock_from_weekly %}
{%- set card_first = modules.datetime.date.fromisoformat(grain_dates['DAILY'].lower) %}
{%- do grain_dates.update({'DAILY': {
    'lower': period_start_date('WEEKLY', card_first).isoformat(), 'upper': none}}) %}
{%- endif %}
{#- STOCK: the grains whose reading starts after the first period (a window, or a card's
    period) and that do not open from the weekly sums: each one's opening level -#}
{%- set opening_grains = [] %}
{%- for grain in grains %}
{%- if grain_dates[grain].lower and not (grain == 'DAILY' and stock_from_weekly) %}
{%- do opening_grains.append(grain) %}
{%- endif %}
{%- endfor %}
{%- if opening_grains %}
{#- the STOCK changes read: a slice's from the measurements, a tenant's from its daily net
    changes (int_kpi__stock_changes) #}
{%- set changes = 'measurements' if by_breakdown else 'changes' %}
{%- set change_column = changes ~ ('.numerator' if by_breakdown else '.net_change') %}
{%- set opening_measures = [] %}
{%- set opening_lowers = [] %}
{%- for grain in opening_grains %}
{%- do opening_measures.append((
    'opening_' ~ grain | lower,
    "case when " ~ changes ~ ".local_date < cast('" ~ grain_dates[grain].lower ~ "' as date)"
    ~ (" and definitions.default_grain = '" ~ grain ~ "'" if grain in card_only else '')
    ~ " then " ~ change_column ~ " end"
)) %}
{%- do opening_lowers.append(grain_dates[grain].lower) %}
{%- endfor %}
{%- set openings_from_where -%}
    from {{ ref('int_kpi__measurements') }} as measurements
    inner join definitions
        on measurements.kpi_name = definitions.kpi_name
    where definitions.aggregation = 'STOCK'
        and measurements.local_date < cast('{{ opening_lowers | max }}' as date)
{%- endset %}

stock_openings as (
    -- STOCK: each grain's opening level (the changes before the first period it reads),
    -- in one pass for every grain (null: no change before it)
    {%- if by_breakdown %}
    {{ breakdown_sums(
        slices,
        '(' ~ breakdown_combinations(slices, openings_from_where, measures=opening_measures) ~ ') as combinations',
        measures=opening_measures | map('first') | list,
    ) }}
    {%- else %}
    -- (the tenant's: from its daily net changes)
    select
        changes.tenant_id,
        changes.kpi_name,
        {%- for column, expression in opening_measures %}
        sum({{ expression }}) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_kpi__stock_changes') }} as changes
    inner join definitions
        on changes.kpi_name = definitions.kpi_name
    where changes.local_date < cast('{{ opening_lowers | max }}' as date)
    group by changes.tenant_id, changes.kpi_name
    {%- endif %}
),
{%- endif %}


{#- the weekly sums come before the DAILY card that opens from them -#}
{%- set grain_order = (grains | reject('equalto', 'DAILY') | list) + ['DAILY'] if stock_from_weekly else grains %}
{%- for grain in grain_order %}
{%- set g = grain | lower %}
{%- set dates = grain_dates[grain] %}
{%- set measured_period = 'measurements.local_date' if grain == 'DAILY' else period_start('week' if grain == 'WEEKLY' else 'month', 'measurements.local_date') %}
{%- set own_grain_filter -%}
    {%- if grain in card_only %}
        and definitions.default_grain = '{{ grain }}'
    {%- endif %}
{%- endset %}
{%- set measurements_filter -%}
    where measurements.local_date is not null
    {{- own_grain_filter }}
    {%- if dates.lower %}
        and measurements.local_date >= cast('{{ dates.lower }}' as date)
    {%- endif %}
    {%- if dates.upper %}
        and measurements.local_date < cast('{{ dates.upper }}' as date)
    {%- endif %}
{%- endset %}
{%- set measurements_read -%}
    {{ ref('int_kpi__measurements') }} as measurements
    inner join definitions
        on measurements.kpi_name = definitions.kpi_name
    {{ measurements_filter }}
{%- endset %}

-- ==== {{ grain }} ====================================================================

{{ g }}_recomputed_periods as (
    -- the tenant periods of the grain this run recomputes
    select * from {{ ref('int_tenants__periods') }}
    where grain = '{{ grain }}'
    {%- if grain in card_only %}
        and is_current
    {%- elif has_recompute_window() %}
        and period_end_at > {{ window_bound('min_date') }}
        and period_start_at < {{ window_bound('max_date') }}
    {%- endif %}
),

{{ g }}_periods_read as (
    -- the periods whose measurements are read: from the first recomputed one on (a STOCK
    -- level runs over every one of them)
    select * from {{ ref('int_tenants__periods') }}
    where grain = '{{ grain }}'
    {%- if dates.lower %}
        and period_start >= cast('{{ dates.lower }}' as date)
    {%- endif %}
    {%- if dates.upper %}
        and period_start < cast('{{ dates.upper }}' as date)
    {%- endif %}
),

{{ g }}_sums as (
    -- RATIO and SUM: the period's exact sums; STOCK: its net change
    {%- if grain in shared_grains %}
    {%- set shared_where -%}
        {%- if dates.lower -%}
        {{ g }}_period_start >= cast('{{ dates.lower }}' as date)
        {%- endif %}
        {%- if dates.lower and dates.upper %} and {% endif %}
        {%- if dates.upper -%}
        {{ g }}_period_start < cast('{{ dates.upper }}' as date)
        {%- endif %}
    {%- endset %}
    {{ breakdown_sums(slices, 'slice_combinations', period=g ~ '_period_start', where=shared_where | trim or none) }}
    {%- elif by_breakdown %}
    {{ breakdown_sums(
        slices,
        '(' ~ breakdown_combinations(
            slices,
            'from ' ~ ref('int_kpi__measurements') ~ ' as measurements
            inner join definitions
                on measurements.kpi_name = definitions.kpi_name
            ' ~ measurements_filter ~ '
                and definitions.aggregation in (\'RATIO\', \'SUM\', \'STOCK\')',
            periods=[('period_start', measured_period)],
        ) ~ ') as combinations',
        period='period_start',
    ) }}
    {%- else %}
    select
        measurements.tenant_id,
        measurements.kpi_name,
        {{ measured_period }} as period_start,
        sum({{ exact_decimal('measurements.numerator') }}) as numerator,
        sum({{ exact_decimal('measurements.denominator') }}) as denominator
    from {{ measurements_read }}
        and definitions.aggregation in ('RATIO', 'SUM')
    group by measurements.tenant_id, measurements.kpi_name, {{ measured_period }}
    union all
    -- STOCK: the sum of the period's days of the tenant's daily net changes
    select
        changes.tenant_id,
        changes.kpi_name,
        {{ measured_period | replace('measurements.', 'changes.') }} as period_start,
        sum(changes.net_change) as numerator,
        {{ exact_decimal('null') }} as denominator
    from {{ ref('int_kpi__stock_changes') }} as changes
    inner join definitions
        on changes.kpi_name = definitions.kpi_name
    {{ measurements_filter | replace('measurements.', 'changes.') }}
    group by changes.tenant_id, changes.kpi_name, {{ measured_period | replace('measurements.', 'changes.') }}
    {%- endif %}
),

{%- if by_breakdown %}

{{ g }}_percentile_measurements as (
    -- PERCENTILE: the values of the periods read, with their attributes, read once for
    -- every breakdown (a CTE read several times is materialized: the slices below
    -- filter it rather than multiply every measurement before filtering)
    select
        measurements.tenant_id,
        measurements.kpi_name,
        {{ measured_period }} as period_start,
        {{ sliced_measurement_columns(slices) }}
        measurements.numerator,
        definitions.percentile
    from {{ measurements_read }}
        and definitions.aggregation = 'PERCENTILE'
        and measurements.numerator is not null
),
{%- endif %}

{{ g }}_sorted_values as (
    -- PERCENTILE: each period's values in ascending order, their count, and where the
    -- percentile falls among them (0-based, exact: percentile x (n - 1)); one sort per
    -- period (an aggregate), not a window ranking every value
    select
        tenant_id,
        kpi_name,
        {{ slice_keys }}
        period_start,
        cast(count(*) as bigint) as value_count,
        cast(max(percentile) as numeric(10, 6)) * (count(*) - 1) as position,
        {{ sorted_array_agg('cast(numerator as ' ~ type_double() ~ ')') }} as sorted_values
    from (
        {%- if by_breakdown %}
        {%- for subject, breakdown, column in slices %}
        {%- if not loop.first %}
        union all
        {%- endif %}
        select
            tenant_id,
            kpi_name,
            cast('{{ breakdown }}' as {{ dbt.type_string() }}) as breakdown,
            {{ column }} as breakdown_value,
            period_start,
            numerator,
            percentile
        from {{ g }}_percentile_measurements
        where subject = '{{ subject }}'
        {%- endfor %}
        {%- else %}
        select
            measurements.tenant_id,
            measurements.kpi_name,
            {{ measured_period }} as period_start,
            measurements.numerator,
            definitions.percentile
        from {{ measurements_read }}
            and definitions.aggregation = 'PERCENTILE'
            and measurements.numerator is not null
        {%- endif %}
    ) as percentile_measurements
    group by tenant_id, kpi_name, {{ slice_keys }} period_start
),

{{ g }}_percentiles as (
    -- the continuous percentile: the value at floor(position), plus the fraction of the
    -- way to the next one
    select
        tenant_id,
        kpi_name,
        {{ slice_keys }}
        period_start,
        value_count,
        lower_value + cast(position - floor(position) as {{ type_double() }})
            * (upper_value - lower_value) as percentile_value
    from (
        select
            tenant_id,
            kpi_name,
            {{ slice_keys }}
            period_start,
            value_count,
            position,
            {{ array_element('sorted_values', 'cast(floor(position) as integer) + 1') }} as lower_value,
            {{ array_element('sorted_values', 'cast(ceil(position) as integer) + 1') }} as upper_value
        from {{ g }}_sorted_values
    ) as bounded
),

{{ g }}_stock_openings as (
    -- STOCK: the level before the first period read (the changes before it)
    {%- if grain == 'DAILY' and stock_from_weekly %}
    -- (the weekly net changes of the weeks before it, the card's KPIs)
    select tenant_id, kpi_name, {{ slice_keys }} sum(numerator) as opening_level
    from weekly_sums
    where period_start < cast('{{ dates.lower }}' as date)
        and kpi_name in (
            select kpi_name from definitions
            where aggregation = 'STOCK' and default_grain = 'DAILY'
        )
    group by tenant_id, kpi_name{{ ', breakdown, breakdown_value' if by_breakdown }}
    {%- elif dates.lower %}
    select tenant_id, kpi_name, {{ slice_keys }} opening_{{ g }} as opening_level
    from stock_openings
    where opening_{{ g }} is not null
    {%- else %}
    select
        cast(null as bigint) as tenant_id,
        cast(null as {{ dbt.type_string() }}) as kpi_name,
        {%- for column in slice_columns %}
        cast(null as {{ dbt.type_string() }}) as {{ column }},
        {%- endfor %}
        {{ exact_decimal('null') }} as opening_level
    where 1 = 0
    {%- endif %}
),
{%- if by_breakdown %}

{{ g }}_stock_slices as (
    -- STOCK: the slices with a change in the periods read or an opening level
    select tenant_id, kpi_name, breakdown, breakdown_value
    from {{ g }}_sums
    where kpi_name in (select kpi_name from definitions where aggregation = 'STOCK')
    union
    select tenant_id, kpi_name, breakdown, breakdown_value
    from {{ g }}_stock_openings
),
{%- endif %}

{{ g }}_stock_levels as (
    -- STOCK: the opening level plus the running total of the net changes, period by
    -- period (a period without change keeps the level)
    select
        {{ g }}_periods_read.tenant_id,
        {%- if by_breakdown %}
        {{ g }}_stock_slices.kpi_name,
        {{ g }}_stock_slices.breakdown,
        {{ g }}_stock_slices.breakdown_value,
        {%- else %}
        definitions.kpi_name,
        {%- endif %}
        {{ g }}_periods_read.period_start,
        coalesce({{ g }}_stock_openings.opening_level, 0)
        + sum(coalesce({{ g }}_sums.numerator, 0)) over (
            partition by
                {{ g }}_periods_read.tenant_id,
            {%- if by_breakdown %}
                {{ g }}_stock_slices.kpi_name,
                {{ g }}_stock_slices.breakdown,
                {{ g }}_stock_slices.breakdown_value
            {%- else %}
                definitions.kpi_name
            {%- endif %}
            order by {{ g }}_periods_read.period_start
            rows between unbounded preceding and current row
        ) as stock_level
    from {{ g }}_periods_read
    {%- if by_breakdown %}
    inner join {{ g }}_stock_slices
        on {{ g }}_periods_read.tenant_id = {{ g }}_stock_slices.tenant_id
    left join {{ g }}_sums
        on {{ g }}_periods_read.tenant_id = {{ g }}_sums.tenant_id
        and {{ g }}_stock_slices.kpi_name = {{ g }}_sums.kpi_name
        and {{ g }}_stock_slices.breakdown = {{ g }}_sums.breakdown
        and {{ g }}_stock_slices.breakdown_value = {{ g }}_sums.breakdown_value
        and {{ g }}_periods_read.period_start = {{ g }}_sums.period_start
    left join {{ g }}_stock_openings
        on {{ g }}_periods_read.tenant_id = {{ g }}_stock_openings.tenant_id
        and {{ g }}_stock_slices.kpi_name = {{ g }}_stock_openings.kpi_name
        and {{ g }}_stock_slices.breakdown = {{ g }}_stock_openings.breakdown
        and {{ g }}_stock_slices.breakdown_value = {{ g }}_stock_openings.breakdown_value
    {%- else %}
    cross join definitions
    left join {{ g }}_sums
        on {{ g }}_periods_read.tenant_id = {{ g }}_sums.tenant_id
        and definitions.kpi_name = {{ g }}_sums.kpi_name
        and {{ g }}_periods_read.period_start = {{ g }}_sums.period_start
    left join {{ g }}_stock_openings
        on {{ g }}_periods_read.tenant_id = {{ g }}_stock_openings.tenant_id
        and definitions.kpi_name = {{ g }}_stock_openings.kpi_name
    where definitions.aggregation = 'STOCK'
    {%- endif %}
),

{{ g }}_ranked_targets as (
    -- the target rows in effect at each recomputed period's start, the tenant's own first
    select
        {{ g }}_recomputed_periods.tenant_id,
        {{ g }}_recomputed_periods.period_start,
        targets.kpi_name,
        targets.target,
        targets.is_enabled,
        row_number() over (
            partition by
                {{ g }}_recomputed_periods.tenant_id,
                {{ g }}_recomputed_periods.period_start,
                targets.kpi_name
            order by
                case when targets.tenant_id is null then 1 else 0 end,
                targets.valid_from desc nulls last
        ) as target_rank
    from {{ g }}_recomputed_periods
    inner join targets
        on (targets.tenant_id = {{ g }}_recomputed_periods.tenant_id or targets.tenant_id is null)
        and (targets.valid_from is null or targets.valid_from <= {{ g }}_recomputed_periods.period_start)
        and (targets.valid_to is null or {{ g }}_recomputed_periods.period_start < targets.valid_to)
    {%- if grain in card_only %}
    where targets.kpi_name in (
        select kpi_name from definitions where default_grain = '{{ grain }}'
    )
    {%- endif %}
),

{{ g }}_measures as (
    -- what the period measured, one row per tenant (and slice) and KPI: RATIO and SUM
    -- their sums, PERCENTILE its value and count (as denominator), STOCK its level (as
    -- numerator); one row set the values below join once. With by_breakdown, only the
    -- slices with a measurement in the period (STOCK: a level above 0 at its cutoff)
    select
        {{ g }}_sums.tenant_id,
        {{ g }}_sums.kpi_name,
        {%- for column in slice_columns %}
        {{ g }}_sums.{{ column }},
        {%- endfor %}
        {{ g }}_sums.period_start,
        cast({{ g }}_sums.numerator as {{ type_double() }}) as numerator,
        cast({{ g }}_sums.denominator as {{ type_double() }}) as denominator,
        cast(null as {{ type_double() }}) as percentile_value
    from {{ g }}_sums
    inner join definitions
        on {{ g }}_sums.kpi_name = definitions.kpi_name
    where definitions.aggregation in ('RATIO', 'SUM')
    {%- if by_breakdown %}
        -- ELAPSED_DAYS: a slice counts at least one (a measurement of 0 only makes its
        -- tenant one with a value in every period)
        and (coalesce(definitions.denominator_basis, '') <> 'ELAPSED_DAYS'
            or {{ g }}_sums.numerator > 0)
    {%- endif %}
    union all
    select
        tenant_id,
        kpi_name,
        {{ slice_keys }}
        period_start,
        cast(null as {{ type_double() }}) as numerator,
        cast(value_count as {{ type_double() }}) as denominator,
        percentile_value
    from {{ g }}_percentiles
    union all
    select
        tenant_id,
        kpi_name,
        {{ slice_keys }}
        period_start,
        cast(stock_level as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        cast(null as {{ type_double() }}) as percentile_value
    from {{ g }}_stock_levels
    {%- if by_breakdown %}
    where stock_level > 0
    {%- endif %}
),

{{ g }}_values as (
    select
        {{ g }}_recomputed_periods.tenant_id,
        {{ g }}_ranked_targets.kpi_name,
        -- a constant: a fact table's filter on the grain skips the other grains' branches
        cast('{{ grain }}' as {{ dbt.type_string() }}) as grain,
        {%- for column in slice_columns %}
        {{ g }}_measures.{{ column }},
        {%- endfor %}
        {{ g }}_recomputed_periods.period_start,
        {{ g }}_recomputed_periods.period_end,
        {{ g }}_recomputed_periods.is_complete,
        {{ g }}_recomputed_periods.period_start_at,
        {{ g }}_recomputed_periods.period_end_at,
        cast({{ g }}_ranked_targets.target as {{ type_double() }}) as target,
        definitions.aggregation,
        definitions.value_multiplier,
        definitions.value_decimals,
        definitions.direction,
        definitions.green_threshold_pct,
        definitions.yellow_threshold_pct,
        definitions.lower_better_yellow_ratio,
        case
            when definitions.aggregation in ('RATIO', 'SUM', 'STOCK')
                then coalesce({{ g }}_measures.numerator, 0)
        end as numerator,
        case
            when definitions.aggregation = 'RATIO' and definitions.denominator_basis = 'ELAPSED_DAYS'
                then cast(case
                    when elapsed_days_tenants.tenant_id is null then 0
                    when {{ g }}_recomputed_periods.is_complete
                        then {{ dbt.datediff(g ~ '_recomputed_periods.period_start', g ~ '_recomputed_periods.period_end', 'day') }}
                    -- the current period: its days up to the one holding as_of, that one
                    -- included unless as_of is its very start (local midnight)
                    else {{ dbt.datediff(g ~ '_recomputed_periods.period_start', 'cast(' ~ utc_to_local(as_of_timestamp(), g ~ '_recomputed_periods.timezone') ~ ' as date)', 'day') }}
                        + case
                            when {{ utc_to_local(as_of_timestamp(), g ~ '_recomputed_periods.timezone') }}
                                > cast(cast({{ utc_to_local(as_of_timestamp(), g ~ '_recomputed_periods.timezone') }} as date) as timestamp)
                                then 1
                            else 0
                        end
                end as {{ type_double() }})
            when definitions.aggregation in ('RATIO', 'PERCENTILE')
                then coalesce({{ g }}_measures.denominator, 0)
        end as denominator,
        {{ g }}_measures.percentile_value
    from {{ g }}_recomputed_periods
    inner join {{ g }}_ranked_targets
        on {{ g }}_recomputed_periods.tenant_id = {{ g }}_ranked_targets.tenant_id
        and {{ g }}_recomputed_periods.period_start = {{ g }}_ranked_targets.period_start
        and {{ g }}_ranked_targets.target_rank = 1
        and {{ g }}_ranked_targets.is_enabled
    inner join definitions
        on {{ g }}_ranked_targets.kpi_name = definitions.kpi_name
        {{- own_grain_filter }}
    -- a tenant row for every enabled KPI and period; a slice row where it measured
    {{ 'inner' if by_breakdown else 'left' }} join {{ g }}_measures
        on {{ g }}_recomputed_periods.tenant_id = {{ g }}_measures.tenant_id
        and {{ g }}_ranked_targets.kpi_name = {{ g }}_measures.kpi_name
        and {{ g }}_recomputed_periods.period_start = {{ g }}_measures.period_start
        {%- if by_breakdown %}
        -- a KPI's own breakdowns (kpi_definitions.breakdowns, blank: all of its subject's)
        and (
            nullif(trim(definitions.breakdowns), '') is null
            or '|' || replace(upper(definitions.breakdowns), ' ', '') || '|'
                like '%|' || {{ g }}_measures.breakdown || '|%'
        )
        {%- endif %}
    left join elapsed_days_tenants
        on {{ g }}_recomputed_periods.tenant_id = elapsed_days_tenants.tenant_id
        and {{ g }}_ranked_targets.kpi_name = elapsed_days_tenants.kpi_name
),
{%- endfor %}

computed as (
    {%- for grain in grains %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select * from {{ grain | lower }}_values
    {%- endfor %}
),

valued as (
    select
        computed.*,
        {{ round_half_up(
            "case
                when aggregation = 'RATIO' then
                    case when denominator > 0 then value_multiplier * numerator / denominator end
                when aggregation = 'PERCENTILE' then value_multiplier * percentile_value
                else value_multiplier * numerator
            end",
            'value_decimals'
        ) }} as value
    from computed
),

final as (
    select
        -- keys
        cast(tenant_id as bigint) as tenant_id,
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(grain as {{ dbt.type_string() }}) as grain,
        cast(period_start as date) as period_start,
        {%- for column in slice_columns %}
        cast({{ column }} as {{ dbt.type_string() }}) as {{ column }},
        {%- endfor %}
        -- period
        cast(period_end as date) as period_end,
        cast(is_complete as boolean) as is_complete,
        -- measures
        cast(value as {{ type_double() }}) as value,
        cast(numerator as {{ type_double() }}) as numerator,
        cast(denominator as {{ type_double() }}) as denominator,
        cast(target as {{ type_double() }}) as target,
        cast(direction as {{ dbt.type_string() }}) as direction,
        cast({{ round_half_up(achievement_pct('value', 'target', 'direction'), 1) }} as {{ type_double() }})
            as achievement_pct,
        cast({{ kpi_status(
            'value', 'target', 'direction',
            'green_threshold_pct', 'yellow_threshold_pct', 'lower_better_yellow_ratio'
        ) }} as {{ dbt.type_string() }}) as status,
        -- timestamps (UTC)
        period_start_at,
        period_end_at
    from valued
)

select * from final
{%- endmacro %}
