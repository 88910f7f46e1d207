{#- `dbt run-operation create_tenant_roles`: on PostgreSQL, creates the tenant role
    <prefix><tenant_id> (NOLOGIN, a member of the reader role) of every tenant in
    int_tenants__activity that has none yet, and prints what it did. An administrator then
    grants a tenant's role to that tenant's BI login: `grant kpi_tenant_2 to acme_bi;`.
    Needs CREATEROLE (or run the printed statements as an administrator). -#}
{% macro create_tenant_roles() -%}
    {%- if target.type != 'postgres' -%}
        {{ exceptions.raise_compiler_error(
            "create_tenant_roles is for PostgreSQL (DuckDB has no roles)") }}
    {%- endif -%}
    {%- set roles = access_roles() -%}
    {%- set tenants = run_query(
        "select tenant_id from " ~ ref('int_tenants__activity') ~ " order by tenant_id"
    ).columns[0].values() -%}
    {%- set created = [] -%}
    {%- for tenant_id in tenants -%}
        {%- set role = roles.prefix ~ (tenant_id | int) -%}
        {%- set exists = run_query(
            "select count(*) from pg_catalog.pg_roles where rolname = '" ~ role ~ "'"
        ).columns[0].values()[0] -%}
        {%- if exists == 0 -%}
            {%- do run_query("create role " ~ role ~ " nologin in role " ~ roles.reader) -%}
            {%- do created.append(role) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ log("tenant roles: " ~ tenants | length ~ " tenants, created "
        ~ (created | join(', ') if created else 'none'), info=true) }}
{%- endmacro %}
