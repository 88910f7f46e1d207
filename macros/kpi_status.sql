{#- The traffic light of a value against its target: NO_DATA when value is null;
    HIGHER_BETTER: GREEN when achievement >= green_pct, YELLOW when >= yellow_pct, else RED;
    LOWER_BETTER: GREEN when value <= target, YELLOW when value <= yellow_ratio x target,
    else RED. Thresholds default to 95 / 80 / 1.2 when null. -#}
{% macro kpi_status(value, target, direction, green_pct='95.0', yellow_pct='80.0', yellow_ratio='1.2') -%}
    case
        when {{ value }} is null or {{ target }} is null then 'NO_DATA'
        when {{ direction }} = 'HIGHER_BETTER' then
            case
                when {{ achievement_pct(value, target, direction) }} >= coalesce({{ green_pct }}, 95.0) then 'GREEN'
                when {{ achievement_pct(value, target, direction) }} >= coalesce({{ yellow_pct }}, 80.0) then 'YELLOW'
                else 'RED'
            end
        when {{ value }} <= {{ target }} then 'GREEN'
        when {{ value }} <= coalesce({{ yellow_ratio }}, 1.2) * {{ target }} then 'YELLOW'
        else 'RED'
    end
{%- endmacro %}
