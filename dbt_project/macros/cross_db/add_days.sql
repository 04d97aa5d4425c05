{#- The date `days` (an integer expression) days after a date, as a date. -#}
{% macro add_days(date_expression, days) -%}
    {{ return(adapter.dispatch('add_days', 'growthops')(date_expression, days)) }}
{%- endmacro %}

{#- PostgreSQL and DuckDB: date + integer is a date. -#}
{% macro default__add_days(date_expression, days) -%}
    cast(cast({{ date_expression }} as date) + cast({{ days }} as integer) as date)
{%- endmacro %}
