{#- Achievement against target in %, unrounded (round with round_half_up for display).
    HIGHER_BETTER: value / target x 100. LOWER_BETTER: 100 when value <= target, else
    target / value x 100. Null when value is null. -#}
{% macro achievement_pct(value, target, direction) -%}
    case
        when {{ value }} is null or {{ target }} is null then null
        when {{ direction }} = 'HIGHER_BETTER' then
            case when {{ target }} = 0 then null else {{ value }} / {{ target }} * 100.0 end
        when {{ value }} <= {{ target }} then 100.0
        else {{ target }} / {{ value }} * 100.0
    end
{%- endmacro %}
