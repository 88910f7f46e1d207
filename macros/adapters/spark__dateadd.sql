{#- Replaces dbt-spark's dateadd: that one works in whole seconds through
    to_unix_timestamp (it drops the microseconds, truncates a fraction of the interval to
    int) and raises on a null timestamp (assert_not_null), where every other engine returns
    null. Spark 3.3+ has timestampadd(unit, count, timestamp), exact to the microsecond
    with a bigint count; a null in gives a null out. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}
