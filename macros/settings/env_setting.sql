{#- A run setting from the environment (KPI_AS_OF, KPI_MIN_DATE, ...), read only when dbt
    executes, never while it parses: dbt records the env vars read during parsing and
    re-parses every file that read one whose value changed, and these change on every
    run (as_of) and every partition (the window). Read at execution, they keep partial
    parsing intact across runs, so each invocation starts in about the time of a no-op.
    While parsing it returns '' (no refs or configs depend on these values). -#}
{% macro env_setting(name) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(env_var(name, '')) }}
{%- endmacro %}
