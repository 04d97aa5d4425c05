{#-
    Select-list expression that expands one input row into one row per integer from `low` to
    `high` inclusive (no row when high < low). Use it alone in a select list:
        select bounds.x, {{ integer_series('0', 'bounds.n') }} as i from bounds
-#}
{% macro integer_series(low, high) -%}
    {{ return(adapter.dispatch('integer_series', 'growthops')(low, high)) }}
{%- endmacro %}

{% macro default__integer_series(low, high) -%}
    generate_series(cast({{ low }} as integer), cast({{ high }} as integer))
{%- endmacro %}

{% macro duckdb__integer_series(low, high) -%}
    unnest(generate_series(cast({{ low }} as bigint), cast({{ high }} as bigint)))
{%- endmacro %}
