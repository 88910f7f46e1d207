{#- A subquery listing the timezone names this engine understands (column `name`):
    PostgreSQL's pg_timezone_names view, DuckDB's ICU list through its pg_timezone_names()
    table function. Used to validate timezone names from seeds before they reach
    `at time zone`. -#}
{% macro timezone_names() -%}
    {{ return(adapter.dispatch('timezone_names')()) }}
{%- endmacro %}

{% macro default__timezone_names() -%}
    (select name from pg_timezone_names)
{%- endmacro %}

{% macro duckdb__timezone_names() -%}
    (select name from pg_timezone_names())
{%- endmacro %}

{#- Spark lists no timezone names in SQL: the IANA names of the tz database dbt ships
    (pytz, in dbt's Jinja modules), as inline rows. Java's own list (the one
    from_utc_timestamp uses) holds the same canonical names. -#}
{% macro spark__timezone_names() -%}
    (select name from values
        {%- for name in modules.pytz.all_timezones %}
        ('{{ name }}'){{ ',' if not loop.last }}
        {%- endfor %}
    as timezone_names (name))
{%- endmacro %}
