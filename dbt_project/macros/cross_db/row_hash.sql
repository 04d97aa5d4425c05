{#- A 64-bit hash of a list of SQL expressions, null-safe (a change detector, not a key: equal
    inputs give equal hashes on one warehouse and version; nothing compares it across them). -#}
{% macro row_hash(expressions) -%}
    {{ return(adapter.dispatch('row_hash', 'growthops')(expressions)) }}
{%- endmacro %}

{% macro default__row_hash(expressions) -%}
    hashtextextended(
        concat_ws(
            '|',
            {%- for expression in expressions %}
                coalesce(cast({{ expression }} as text), '\N'){% if not loop.last %},{% endif %}
            {%- endfor %}
        ),
        0
    )
{%- endmacro %}

{% macro duckdb__row_hash(expressions) -%}
    hash({{ expressions | join(', ') }})
{%- endmacro %}
