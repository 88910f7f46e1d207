{#- Removes every row of `relation` inside the current transaction: `truncate` on
    PostgreSQL (no dead rows left to vacuum; it locks out readers until commit, so it is
    used on intermediate tables only), `delete` elsewhere. -#}
{% macro empty_table(relation) -%}
    {{ return(adapter.dispatch('empty_table', 'kpi_engine')(relation)) }}
{%- endmacro %}

{% macro default__empty_table(relation) -%}
    delete from {{ relation }}
{%- endmacro %}

{% macro postgres__empty_table(relation) -%}
    truncate table {{ relation }}
{%- endmacro %}
