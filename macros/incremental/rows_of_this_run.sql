{#- What the __rows_of_this_run__ placeholder of a data test's `where` becomes (set on
    every test of the intermediate models in dbt_project.yml; see get_where_subquery): for
    a model with a meta.replace_scope (those built with the `replace` incremental
    strategy, and the views over them), the rows this run replaced (replaced_rows), so on
    a windowed run the tests of the big incremental models check a day of data, not the
    whole history; for any other model, and on runs without a window, `1 = 1` (every
    row). -#}
{% macro rows_of_this_run(relation) -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model'
                and (node.alias or node.name) | lower == relation.identifier | lower
                and (node.schema | lower) == (relation.schema | lower)
                and (node.config.meta or {}).get('replace_scope') -%}
                {{ return(replaced_rows(relation, node)) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return('1 = 1') }}
{%- endmacro %}
