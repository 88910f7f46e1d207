{#- on-run-end hook: on PostgreSQL, lets the reader role into the schemas of the marts
    (the tables' select grants come from the `grants` config in dbt_project.yml). No other
    schema is granted: raw, staging and intermediate stay closed to it. No-op on DuckDB. -#}
{% macro grant_marts_schema_usage() -%}
    {{- return(adapter.dispatch('grant_marts_schema_usage')()) -}}
{%- endmacro %}

{% macro default__grant_marts_schema_usage() -%}
{%- endmacro %}

{% macro postgres__grant_marts_schema_usage() -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set schemas = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.fqn[1] == 'marts'
        and node.schema not in schemas -%}
        {%- do schemas.append(node.schema) -%}
    {%- endfor -%}
    {%- for schema in schemas | sort %}
do $$
begin
    if exists (select from pg_catalog.pg_namespace where nspname = '{{ schema }}') then
        grant usage on schema {{ adapter.quote(schema) }} to {{ access_roles().reader }};
    end if;
end
$$;
    {%- endfor %}
{%- endmacro %}
