{#- The SQL condition selecting the rows of `relation` (an incremental model's table) that
    this run recomputes: what the `replace` strategy deletes before inserting the new rows,
    and what the tests of the model check on a windowed run (get_where_subquery). It
    follows the model's `meta`:
    - `replace_scope: reprocessed_requests` (models keyed by request): on a windowed run,
      the requests int_service_requests__changed lists, plus the rows matching
      `meta.replace_also` (e.g. `sr_id is null`: rows not tied to a request, recomputed
      whole; `is_on_hold`: requests whose time on hold grows with as_of); on any other
      run, every row.
    - `replace_scope: recomputed_periods` (the KPI fact tables): on a run with a window,
      the tenant periods overlapping it (int_tenants__periods; see window_bound), plus the
      rows matching `meta.replace_also` (fct_kpi_breakdowns: the grains whose slices are
      only the scorecard cards'); on a run without, every period; either way only the
      KPIs of kpi_selection().
    `node` is the model's graph node when called from a test (get_where_subquery); the
    model being built otherwise. -#}
{% macro replaced_rows(relation, node=none) -%}
    {%- set meta = (node.config.meta if node is not none else config.get('meta')) or {} -%}
    {%- set scope = meta.get('replace_scope') -%}
    {%- if scope == 'reprocessed_requests' -%}
        {%- if not has_recompute_window('min_date') -%}
            {{ return('1 = 1') }}
        {%- endif -%}
        {#- the list's own schema: a mart (fct_kpi_contributions) reads it across schemas -#}
        {%- set changed = namespace(schema=relation.schema) -%}
        {%- for changed_node in graph.nodes.values()
            if changed_node.resource_type == 'model' and changed_node.name == 'int_service_requests__changed' -%}
            {%- set changed.schema = changed_node.schema -%}
        {%- endfor -%}
        {%- set changed = relation.incorporate(path={
            'schema': changed.schema, 'identifier': 'int_service_requests__changed'}) -%}
        {%- set condition = 'sr_id in (select sr_id from ' ~ changed ~ ')' -%}
        {%- if meta.get('replace_also') -%}
            {%- set condition = '(' ~ condition ~ ' or ' ~ meta.get('replace_also') ~ ')' -%}
        {%- endif -%}
        {{ return(condition) }}
    {%- elif scope == 'recomputed_periods' -%}
        {%- if not has_recompute_window() -%}
            {{ return(kpi_selection('kpi_name')) }}
        {%- endif -%}
        {#- the periods' own schema, from the graph rather than ref(): a test calling this
            (get_where_subquery) has no dependency on int_tenants__periods to declare -#}
        {%- set periods = namespace(schema=relation.schema) -%}
        {%- for periods_node in graph.nodes.values()
            if periods_node.resource_type == 'model' and periods_node.name == 'int_tenants__periods' -%}
            {%- set periods.schema = periods_node.schema -%}
        {%- endfor -%}
        {%- set periods = relation.incorporate(path={
            'schema': periods.schema, 'identifier': 'int_tenants__periods'}) -%}
        {%- set condition -%}
            {{ kpi_selection('kpi_name') }}
            and ((tenant_id, grain, period_start) in (
                select tenant_id, grain, period_start
                from {{ periods }}
                where period_end_at > {{ window_bound('min_date') }}
                    and period_start_at < {{ window_bound('max_date') }}
            ){{ ' or ' ~ meta.get('replace_also') if meta.get('replace_also') }})
        {%- endset -%}
        {{ return(condition) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("Model " ~ relation ~ " uses incremental_strategy 'replace' without a known meta.replace_scope (reprocessed_requests or recomputed_periods), got " ~ (scope | tojson)) }}
{%- endmacro %}
