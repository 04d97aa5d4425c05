{#-
    Median of a numeric expression as a double (aggregate): the mean of the two middle values
    for an even count, null when there is no value. The same interpolation on both warehouses.
-#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'growthops')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    cast(percentile_cont(0.5) within group (order by {{ expression }}) as double precision)
{%- endmacro %}

{% macro duckdb__median(expression) -%}
    cast(quantile_cont({{ expression }}, 0.5) as double precision)
{%- endmacro %}
