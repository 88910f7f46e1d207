{#- The PostgreSQL roles of the access model (README "Security"), from vars set by env:
    - reader_role (KPI_READER_ROLE, default kpi_reader): select on the marts, nothing else;
    - tenant_role_prefix (KPI_TENANT_ROLE_PREFIX, default kpi_tenant_): row-level security
      lets a member of <prefix><tenant_id> see that tenant's rows, and a member of
      <prefix>all every tenant's rows.
    Returns {'reader': ..., 'prefix': ..., 'all_tenants': ...}; raises on a name that is
    not a plain lowercase SQL identifier (they are written into SQL unquoted). -#}
{% macro access_roles() -%}
    {%- set reader = var('reader_role') | trim -%}
    {%- set prefix = var('tenant_role_prefix') | trim -%}
    {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]{0,62}', reader) -%}
        {{ exceptions.raise_compiler_error(
            "Invalid value for reader_role (env KPI_READER_ROLE): " ~ reader ~ " - a lowercase "
            ~ "PostgreSQL role name (letters, digits, _), like kpi_reader") }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]{0,40}', prefix) -%}
        {{ exceptions.raise_compiler_error(
            "Invalid value for tenant_role_prefix (env KPI_TENANT_ROLE_PREFIX): " ~ prefix
            ~ " - lowercase letters, digits and _, up to 41 characters, like kpi_tenant_") }}
    {%- endif -%}
    {{- return({'reader': reader, 'prefix': prefix, 'all_tenants': prefix ~ 'all'}) -}}
{%- endmacro %}
