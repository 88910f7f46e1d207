{#- The traffic light of a value against its target: NO_DATA when value is null;
    HIGHER_BETTER: GREEN when achievement (value / target x 100) >= green_pct, YELLOW when
    >= yellow_pct, else RED; LOWER_BETTER: GREEN when value <= target, YELLOW when
    value <= yellow_ratio x target, else RED. Thresholds default to 95 / 80 / 1.2.
    Comparisons are made in exact decimals, multiplied out (value x 100 >= 95 x target),
    so edge cases such as 3.6 against 1.2 x 3 are decided as written, not by binary
    floating point. -#}
{% macro kpi_status(value, target, direction, green_pct='null', yellow_pct='null', yellow_ratio='null') -%}
    {%- set v = 'cast(' ~ value ~ ' as numeric(28, 10))' -%}
    {%- set t = 'cast(' ~ target ~ ' as numeric(28, 10))' -%}
    case
        when {{ value }} is null or {{ target }} is null then 'NO_DATA'
        when {{ direction }} = 'HIGHER_BETTER' then
            case
                when {{ target }} <= 0 then 'RED'
                when {{ v }} * 100 >= cast(coalesce({{ green_pct }}, 95.0) as numeric(18, 6)) * {{ t }} then 'GREEN'
                when {{ v }} * 100 >= cast(coalesce({{ yellow_pct }}, 80.0) as numeric(18, 6)) * {{ t }} then 'YELLOW'
                else 'RED'
            end
        when {{ v }} <= {{ t }} then 'GREEN'
        when {{ v }} <= cast(coalesce({{ yellow_ratio }}, 1.2) as numeric(18, 6)) * {{ t }} then 'YELLOW'
        else 'RED'
    end
{%- endmacro %}
