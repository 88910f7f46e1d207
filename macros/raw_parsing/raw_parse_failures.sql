{#- A text expression listing, as `|name|name|`, the columns of `columns` (a dict of
    column name to kind, as for parse_raw_column) whose raw value is present but did not
    parse; '' when every value parsed. Typed columns cannot fail and are skipped. -#}
{% macro raw_parse_failures(columns, column_types) -%}
    {%- set checks = [] -%}
    {%- for column_name, kind in columns.items() -%}
        {%- if not _raw_column_is_typed(column_name, kind, column_types) -%}
            {%- do checks.append(
                "case when nullif(trim(cast(" ~ column_name ~ " as " ~ dbt.type_string() ~ ")), '') is not null and ("
                ~ parse_raw_column(column_name, kind, column_types) ~ ") is null then '" ~ column_name ~ "|' else '' end"
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if checks -%}
        '|' || {{ checks | join(' || ') }}
    {%- else -%}
        cast('|' as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}
