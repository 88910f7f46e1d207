{#- on-run-start hook: on PostgreSQL, creates the reader role and the all-tenants role
    (NOLOGIN group roles, the second a member of the first) when they do not exist yet, so
    the marts' grants always have a grantee. A transformer without CREATEROLE gets a clear
    error naming the role to create; with the roles created by an administrator, it needs
    no such privilege. Also checks the server is PostgreSQL 15+ (security_invoker views,
    macros/tenant_row_security). No-op on DuckDB (no roles: protect the file). -#}
{% macro create_access_roles() -%}
    {{- return(adapter.dispatch('create_access_roles')()) -}}
{%- endmacro %}

{% macro default__create_access_roles() -%}
{%- endmacro %}

{% macro postgres__create_access_roles() -%}
    {%- set roles = access_roles() -%}
    {%- if execute -%}
        {%- set version = run_query("select current_setting('server_version_num')::int").columns[0].values()[0] -%}
        {%- if version < 150000 -%}
            {{ exceptions.raise_compiler_error(
                "Tenant isolation needs PostgreSQL 15 or newer (security_invoker views); "
                ~ "this server is version " ~ version) }}
        {%- endif -%}
    {%- endif -%}
    {%- for role, member_of in [(roles.reader, none), (roles.all_tenants, roles.reader)] %}
do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = '{{ role }}') then
        create role {{ role }} nologin{% if member_of %} in role {{ member_of }}{% endif %};
    end if;
exception
    when duplicate_object or unique_violation then
        null;  -- created by a concurrent run
    when insufficient_privilege then
        raise exception 'role {{ role }} does not exist and % may not create roles', current_user
            using hint = 'as an administrator: create role {{ role }} nologin{% if member_of %} in role {{ member_of }}{% endif %}; (README, Security)';
end
$$;
    {%- endfor %}
{%- endmacro %}
