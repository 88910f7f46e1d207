{#- post-hook of the marts (dbt_project.yml): tenant isolation by PostgreSQL row-level
    security, re-applied inside the transaction that (re)builds the relation, so no reader
    ever sees a mart without it. The scope comes from the model's meta `tenant_scope`, by
    default `tenant` when the model has a tenant_id column, else `shared`:
    - tenant: a reader sees the rows of the tenants whose role it is a member of
      (<prefix><tenant_id>), or every row as a member of <prefix>all; anyone else, none;
    - all_tenants: only members of <prefix>all see rows (cross-tenant aggregates);
    - shared: no policy (catalogues such as dim_kpi).
    A view gets security_invoker, so the policies of the tables it reads apply to the
    reader, not to the view's owner. The owner (the transformer) is not restricted: dbt's
    tests see every row. The policy is named by a hash of its expression: an incremental
    run finding it in place changes nothing (no lock taken). No-op on DuckDB. -#}
{% macro tenant_row_security() -%}
    {{- return(adapter.dispatch('tenant_row_security')()) -}}
{%- endmacro %}

{% macro default__tenant_row_security() -%}
{%- endmacro %}

{% macro postgres__tenant_row_security() -%}
    {%- if not execute or model.resource_type != 'model' -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set scope = tenant_scope(model) -%}
    {%- if config.get('materialized') == 'view' -%}
        alter view {{ this }} set (security_invoker = true)
    {%- elif scope != 'shared' -%}
        {%- set roles = access_roles() -%}
        {%- set member_of_all -%}
            exists (
                select from pg_catalog.pg_roles as roles
                where roles.rolname = '{{ roles.all_tenants }}'
                    and pg_catalog.pg_has_role(current_user, roles.oid, 'member')
            )
        {%- endset -%}
        {%- if scope == 'tenant' -%}
            {%- set using -%}
            tenant_id in (
                select cast(substr(roles.rolname, {{ roles.prefix | length + 1 }}) as bigint)
                from pg_catalog.pg_roles as roles
                where roles.rolname ~ '^{{ roles.prefix }}[0-9]{1,18}$'
                    and pg_catalog.pg_has_role(current_user, roles.oid, 'member')
            )
            or {{ member_of_all }}
            {%- endset -%}
        {%- else -%}
            {%- set using = member_of_all -%}
        {%- endif -%}
        {%- set policy = 'kpi_tenant_scope_' ~ local_md5(using)[:12] -%}
        {%- set in_place = run_query(
            "select count(*) from pg_catalog.pg_policies as policies"
            ~ " inner join pg_catalog.pg_class as tables on tables.relname = policies.tablename"
            ~ " inner join pg_catalog.pg_namespace as schemas"
            ~ " on tables.relnamespace = schemas.oid and schemas.nspname = policies.schemaname"
            ~ " where policies.schemaname = '" ~ this.schema ~ "'"
            ~ " and policies.tablename = '" ~ this.identifier ~ "'"
            ~ " and policies.policyname = '" ~ policy ~ "' and tables.relrowsecurity"
        ).columns[0].values()[0] -%}
        {%- if in_place == 0 %}
alter table {{ this }} enable row level security;
{% for old in run_query(
    "select policyname from pg_catalog.pg_policies where schemaname = '" ~ this.schema
    ~ "' and tablename = '" ~ this.identifier ~ "' and policyname like 'kpi_tenant_scope_%'"
).columns[0].values() -%}
drop policy {{ adapter.quote(old) }} on {{ this }};
{% endfor -%}
create policy {{ policy }} on {{ this }} for select using ({{ using }});
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
