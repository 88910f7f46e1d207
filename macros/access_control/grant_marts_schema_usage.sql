{#- on-run-end hook: on PostgreSQL, lets the reader role into the schemas of the marts
    (the tables' select grants come from the `grants` config in dbt_project.yml). No other
    schema is granted: raw, staging and intermediate stay closed to it. Granted only when
    missing, under a transaction-level advisory lock: two runs ending at the same moment
    made PostgreSQL fail one of them ("tuple concurrently updated"). No-op on DuckDB. -#}
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
        -- two runs ending at once would rewrite the schema's privileges together
        -- (PostgreSQL: "tuple concurrently updated"): one at a time, and only when missing
        perform pg_catalog.pg_advisory_xact_lock(
            pg_catalog.hashtext('kpi_engine: grant usage on schema {{ schema }}'));
        if not pg_catalog.has_schema_privilege(
                '{{ access_roles().reader }}', '{{ schema }}', 'USAGE') then
            grant usage on schema {{ adapter.quote(schema) }} to {{ access_roles().reader }};
        end if;
    end if;
end
$$;
    {%- endfor %}
{%- endmacro %}
