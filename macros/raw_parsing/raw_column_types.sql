{#- The data types of a raw relation's columns, as a dict of lower-case column name to
    lower-case type ({} at parse time). Lets the staging models cast typed columns
    directly and parse text columns safely. -#}
{% macro raw_column_types(relation) -%}
    {%- set types = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do types.update({column.name | lower: column.dtype | lower}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(types) }}
{%- endmacro %}
