{#- The element of `array` at the 1-based position `index` (an integer expression),
    null beyond its end. Dispatched. -#}
{% macro array_element(array, index) -%}
    {{ return(adapter.dispatch('array_element', 'kpi_engine')(array, index)) }}
{%- endmacro %}

{% macro default__array_element(array, index) -%}
    ({{ array }})[{{ index }}]
{%- endmacro %}

{% macro spark__array_element(array, index) -%}
    element_at({{ array }}, {{ index }})
{%- endmacro %}
