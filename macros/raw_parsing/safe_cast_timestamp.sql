{#- `text_expression` as a timestamp, or null when it is not an ISO date or date-time
    (`YYYY-MM-DD`, optionally followed by ` ` or `T` and `HH:MM[:SS[.ffffff]]`) naming a
    real calendar day. Never raises, so a bad raw timestamp becomes a recorded rejection
    instead of a failed build. -#}
{% macro safe_cast_timestamp(text_expression) -%}
    {{ return(adapter.dispatch('safe_cast_timestamp')(text_expression)) }}
{%- endmacro %}

{%- macro _iso_timestamp_pattern() -%}
[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?)?
{%- endmacro -%}

{% macro default__safe_cast_timestamp(text_expression) -%}
    {#- the pattern admits 31 February: check the day against the month's length first -#}
    {%- set text = 'trim(' ~ text_expression ~ ')' -%}
    {%- set year = 'cast(substring(' ~ text ~ ', 1, 4) as integer)' -%}
    {%- set month = 'cast(substring(' ~ text ~ ', 6, 2) as integer)' -%}
    {%- set day = 'cast(substring(' ~ text ~ ', 9, 2) as integer)' -%}
    {#- nested cases: PostgreSQL evaluates a case's branches in order, but not the two
        sides of an `and` -#}
    case
        when {{ regex_full_match(text, _iso_timestamp_pattern()) }} then
            case
                when {{ day }} <= case
                    when {{ month }} in (4, 6, 9, 11) then 30
                    when {{ month }} = 2 and ({{ year }} % 4 = 0 and {{ year }} % 100 <> 0 or {{ year }} % 400 = 0) then 29
                    when {{ month }} = 2 then 28
                    else 31
                end
                    then cast({{ text }} as timestamp)
            end
    end
{%- endmacro %}

{#- Spark: try_cast gives null for a day the calendar does not have (also with ANSI mode
    on, which dbt-spark turns off). -#}
{% macro spark__safe_cast_timestamp(text_expression) -%}
    case
        when {{ regex_full_match('trim(' ~ text_expression ~ ')', _iso_timestamp_pattern()) }}
            then try_cast(trim({{ text_expression }}) as timestamp)
    end
{%- endmacro %}

{% macro duckdb__safe_cast_timestamp(text_expression) -%}
    case
        when {{ regex_full_match('trim(' ~ text_expression ~ ')', _iso_timestamp_pattern()) }}
            then try_cast(trim({{ text_expression }}) as timestamp)
    end
{%- endmacro %}
