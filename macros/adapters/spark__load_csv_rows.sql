{#- Replaces dbt-spark's load_csv_rows (seeds). That one sends every value as a binding
    that dbt-spark's session cursor formats as '<value>' without escaping: a quote in a
    value (the kpi_definitions descriptions: "an incident's creation") breaks the insert,
    and an empty cell arrives as the text 'None'. Here each value is written as a SQL
    literal: null for an empty cell, otherwise a string with Spark's escapes (backslash
    and quote) cast to the column's type in Spark SQL's words (spark_data_type). -#}
{% macro spark__load_csv_rows(model, agate_table) %}
  {%- set batch_size = get_batch_size() -%}
  {%- set column_override = model['config'].get('column_types', {}) -%}
  {%- set types = [] -%}
  {%- for col_name in agate_table.column_names -%}
      {%- do types.append(spark_data_type(
          column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)))) -%}
  {%- endfor -%}
  {%- set statements = [] -%}
  {%- for chunk in agate_table.rows | batch(batch_size) -%}
      {%- set sql -%}
          insert into {{ this.render() }} values
          {% for row in chunk -%}
              ({%- for value in row -%}
                  {%- if value is none -%}
                      cast(null as {{ types[loop.index0] }})
                  {%- else -%}
                      {%- set text = value.isoformat() if value is not string and value.isoformat is defined else value | string -%}
                      cast('{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ types[loop.index0] }})
                  {%- endif -%}
                  {%- if not loop.last %},{% endif -%}
              {%- endfor -%})
              {%- if not loop.last %},{% endif %}
          {% endfor %}
      {%- endset -%}
      {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
      {%- if loop.index0 == 0 -%}
          {%- do statements.append(sql) -%}
      {%- endif -%}
  {%- endfor -%}
  {{ return(statements[0]) }}
{% endmacro %}
