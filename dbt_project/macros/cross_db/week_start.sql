{#- Monday of the ISO week of a date, as a date (weeks are keyed by their Monday, SPEC §11). -#}
{% macro week_start(date_expression) -%}
    {{ return(adapter.dispatch('week_start', 'growthops')(date_expression)) }}
{%- endmacro %}

{#- PostgreSQL: date_trunc('week') truncates to the Monday of the ISO week. -#}
{% macro default__week_start(date_expression) -%}
    cast(date_trunc('week', cast({{ date_expression }} as timestamp)) as date)
{%- endmacro %}

{#- DuckDB: date_trunc('week') is ISO (Monday) too. -#}
{% macro duckdb__week_start(date_expression) -%}
    cast(date_trunc('week', cast({{ date_expression }} as date)) as date)
{%- endmacro %}
