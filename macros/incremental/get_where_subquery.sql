{#- dbt's hook for a data test's `where` config, overridden as dbt documents, to give the
    placeholder __rows_of_this_run__ a meaning (set on every test of the intermediate
    models in dbt_project.yml): on a windowed run it selects the rows that run rewrote
    (see rows_of_this_run), so the tests of the big incremental models check a day of data,
    not the whole history; on other runs it is `1 = 1` and everything is tested. Any other
    `where` behaves as in dbt. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- if '__rows_of_this_run__' in where -%}
            {%- set where = where | replace('__rows_of_this_run__', rows_of_this_run(relation)) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}
