{#- The date `months` (an integer expression) calendar months after a month start, as a date. -#}
{% macro add_months(date_expression, months) -%}
    {{ return(adapter.dispatch('add_months', 'growthops')(date_expression, months)) }}
{%- endmacro %}

{% macro default__add_months(date_expression, months) -%}
    cast(cast({{ date_expression }} as date) + cast({{ months }} as integer) * interval '1 month' as date)
{%- endmacro %}
