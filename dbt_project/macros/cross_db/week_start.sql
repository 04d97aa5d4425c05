{#- Monday of the ISO week of a date, as a date. -#}
{% macro week_start(date_expression) -%}
    {{ return(adapter.dispatch('week_start', 'growthops')(date_expression)) }}
{%- endmacro %}

{% macro default__week_start(date_expression) -%}
    cast(date_trunc('week', cast({{ date_expression }} as date)) as date)
{%- endmacro %}
