{#- Who may see a mart's rows (macros/tenant_row_security): the model's meta
    `tenant_scope` (tenant | all_tenants | shared), by default `tenant` when its yml
    declares a tenant_id column, else `shared`. Raises on any other value. -#}
{% macro tenant_scope(node) -%}
    {%- set declared = node.config.meta.get('tenant_scope') -%}
    {%- set scope = declared or ('tenant' if 'tenant_id' in node.columns else 'shared') -%}
    {%- if scope not in ('tenant', 'all_tenants', 'shared') -%}
        {{ exceptions.raise_compiler_error(
            "Invalid value for meta tenant_scope of " ~ node.name ~ ": " ~ scope
            ~ " - tenant, all_tenants or shared") }}
    {%- endif -%}
    {%- if scope == 'tenant' and 'tenant_id' not in node.columns -%}
        {{ exceptions.raise_compiler_error(
            node.name ~ " has meta tenant_scope: tenant but no tenant_id column in its yml") }}
    {%- endif -%}
    {{- return(scope) -}}
{%- endmacro %}
