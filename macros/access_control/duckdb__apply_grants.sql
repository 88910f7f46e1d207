{#- DuckDB has no roles: the marts' `grants` config (dbt_project.yml) is for PostgreSQL.
    This replaces dbt-duckdb's version, which warns on every run that grants are not
    supported; a DuckDB file is protected by its file permissions (README, Security). -#}
{% macro duckdb__apply_grants(relation, grant_config, should_revoke=True) -%}
{%- endmacro %}
