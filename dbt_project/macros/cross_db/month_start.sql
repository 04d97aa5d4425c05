{#- First day of the calendar month of a date, as a date. -#}
{% macro month_start(date_expression) -%}
    {{ return(adapter.dispatch('month_start', 'growthops')(date_expression)) }}
{%- endmacro %}

{% macro default__month_start(date_expression) -%}
    cast(date_trunc('month', {{ date_expression }}) as date)
{%- endmacro %}

{% macro duckdb__month_start(date_expression) -%}
    cast(date_trunc('month', cast({{ date_expression }} as date)) as date)
{%- endmacro %}
