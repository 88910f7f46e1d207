{#- `text_expression` as bigint, or null when it is not a whole number written in digits
    (an optional sign, at most 18 digits, surrounding spaces ignored). Never raises, so a
    bad raw key becomes a recorded rejection instead of a failed build. -#}
{% macro safe_cast_bigint(text_expression) -%}
    case
        when {{ regex_full_match('trim(' ~ text_expression ~ ')', '[+-]?[0-9]{1,18}') }}
            then cast(trim({{ text_expression }}) as bigint)
    end
{%- endmacro %}
