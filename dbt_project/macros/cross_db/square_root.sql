{#-
    Square root of a non-negative number, as a double (IEEE sqrt is correctly rounded on both
    warehouses, so the marts' confidence bounds are identical bit for bit). Null when negative.
-#}
{% macro square_root(expression) -%}
    {{ return(adapter.dispatch('square_root', 'growthops')(expression)) }}
{%- endmacro %}

{% macro default__square_root(expression) -%}
    sqrt(greatest(cast({{ expression }} as double precision), cast(0 as double precision)))
{%- endmacro %}

{% macro duckdb__square_root(expression) -%}
    sqrt(greatest(cast({{ expression }} as double), cast(0 as double)))
{%- endmacro %}
