{#- A UTC timestamp plus a whole number of hours (`hours`: an integer known at compile time). -#}
{% macro add_hours(timestamp_expression, hours) -%}
    {{ return(adapter.dispatch('add_hours', 'growthops')(timestamp_expression, hours)) }}
{%- endmacro %}

{% macro default__add_hours(timestamp_expression, hours) -%}
    (cast({{ timestamp_expression }} as timestamp) + interval '{{ hours | int }} hours')
{%- endmacro %}

{% macro duckdb__add_hours(timestamp_expression, hours) -%}
    (cast({{ timestamp_expression }} as timestamp) + to_hours(cast({{ hours | int }} as bigint)))
{%- endmacro %}
