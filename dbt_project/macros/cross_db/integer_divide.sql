{#- Integer quotient of two non-negative integer expressions (truncated), as an integer. -#}
{% macro integer_divide(dividend, divisor) -%}
    {{ return(adapter.dispatch('integer_divide', 'growthops')(dividend, divisor)) }}
{%- endmacro %}

{#- PostgreSQL (and the SQL standard's integers): `/` of two integers truncates. -#}
{% macro default__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) / ({{ divisor }}))
{%- endmacro %}

{#- DuckDB: `/` of two integers is a double; `//` is the integer division. -#}
{% macro duckdb__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) // ({{ divisor }}))
{%- endmacro %}
