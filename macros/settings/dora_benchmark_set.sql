{#- The DORA benchmark set the levels are read from (seeds/dora_benchmarks.csv): var
    `dora_benchmark_set` (default DORA_2023 in dbt_project.yml), as a SQL literal. Letters,
    digits and underscores only. -#}
{% macro dora_benchmark_set() -%}
    {%- set given = var('dora_benchmark_set', 'DORA_2023') -%}
    {%- set raw_value = '' if given is none else given | string | trim -%}
    {%- if not modules.re.match('^[A-Za-z0-9_]{1,64}$', raw_value) -%}
        {{ exceptions.raise_compiler_error("Invalid value for 'dora_benchmark_set': " ~ (raw_value | tojson) ~ ". Expected a benchmark_set of seeds/dora_benchmarks.csv (letters, digits, underscores), e.g. DORA_2023.") }}
    {%- endif -%}
    {{ return("'" ~ raw_value ~ "'") }}
{%- endmacro %}
