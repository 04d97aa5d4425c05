{#-
    Custom schema names are used as-is (staging, intermediate, marts, snapshots, seeds), with no
    target prefix: on DuckDB, publication copies schema `marts` of the build warehouse to the
    serving file. Models without a custom schema land in the target schema.

    On PostgreSQL the marts are the serving tables themselves, so dbt builds them into
    `marts_build` (var `postgres_marts_build_schema`); publication audits that schema and swaps it
    with `marts` in one transaction (growthops.pg_warehouse).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif target.type == 'postgres' and custom_schema_name | trim == 'marts' -%}
        {{ var('postgres_marts_build_schema', 'marts_build') }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
