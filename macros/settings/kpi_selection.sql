{#- A SQL condition restricting a KPI fact-table run to some KPIs: env KPI_ONLY (a
    comma-separated list of kpi_name, set by Dagster for a manual recalculation of one
    KPI) or var `kpi_only`; empty means every KPI. Names are checked (A-Z, 0-9, _) so no
    text reaches SQL unchecked. -#}
{% macro kpi_selection(column='kpi_name') -%}
    {%- set raw_value = (var('kpi_only', '') or env_setting('KPI_ONLY')) | string | trim -%}
    {%- if raw_value == '' -%}
        1 = 1
    {%- else -%}
        {%- set names = [] -%}
        {%- for name in raw_value.split(',') -%}
            {%- set name = name | trim | upper -%}
            {%- if not modules.re.match('^[A-Z][A-Z0-9_]{0,63}$', name) -%}
                {{ exceptions.raise_compiler_error("Invalid value for 'kpi_only': " ~ (raw_value | tojson) ~ ". Expected KPI names such as MTTR,FCR.") }}
            {%- endif -%}
            {%- do names.append("'" ~ name ~ "'") -%}
        {%- endfor -%}
        {{ column }} in ({{ names | join(', ') }})
    {%- endif -%}
{%- endmacro %}
