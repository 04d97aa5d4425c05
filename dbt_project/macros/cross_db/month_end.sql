{#- Last day of the calendar month of a date, as a date. -#}
{% macro month_end(date_expression) -%}
    {{ return(adapter.dispatch('month_end', 'growthops')(date_expression)) }}
{%- endmacro %}

{% macro default__month_end(date_expression) -%}
    cast(date_trunc('month', cast({{ date_expression }} as date)) + interval '1 month' - interval '1 day' as date)
{%- endmacro %}
