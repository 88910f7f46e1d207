{#- Spark: no grants from dbt. A local session has no access control at all, and on a
    cluster access is the platform's (Unity Catalog grants and row filters, Apache Ranger
    policies), managed there, not by a project's builds; open-source Spark SQL rejects
    GRANT ("Operation not allowed"). This replaces dbt-spark's version, so the marts'
    `grants` config (dbt_project.yml, for PostgreSQL) is ignored on Spark, as on DuckDB.
    tenant_row_security, create_access_roles and grant_marts_schema_usage are no-ops on
    Spark through their default__ variants. -#}
{% macro spark__apply_grants(relation, grant_config, should_revoke=True) -%}
{%- endmacro %}
