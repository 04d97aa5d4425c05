{#-
    Custom schema names are used as-is (staging, intermediate, marts, snapshots, seeds), with no
    target prefix: publication copies schema `marts` of the build warehouse to the serving file.
    Models without a custom schema land in the target schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
