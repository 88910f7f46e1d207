{#- The columns a measurement (`measurements`, a row of int_kpi__measurements) brings to
    its breakdown slices: `subject` (REQUEST when it names a request, DEPLOYMENT when it
    names a deployment, null otherwise) and each attribute column of `slices` ((subject,
    breakdown, column) triples) trimmed, '(none)' when null or empty; each followed by a
    comma. -#}
{% macro sliced_measurement_columns(slices) -%}
case
            when measurements.sr_id is not null then 'REQUEST'
            when measurements.deployment_id is not null then 'DEPLOYMENT'
        end as subject,
        {%- for column in slices | map(attribute=2) | unique %}
        coalesce(nullif(trim(measurements.{{ column }}), ''), '(none)') as {{ column }},
        {%- endfor %}
{%- endmacro %}
