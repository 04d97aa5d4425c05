{#- Whole calendar months from the month of `start_date` to the month of `end_date`. -#}
{% macro months_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('months_between', 'growthops')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__months_between(start_date, end_date) -%}
    (
        (cast(extract(year from {{ end_date }}) as integer) - cast(extract(year from {{ start_date }}) as integer)) * 12
        + cast(extract(month from {{ end_date }}) as integer) - cast(extract(month from {{ start_date }}) as integer)
    )
{%- endmacro %}

{% macro duckdb__months_between(start_date, end_date) -%}
    date_diff('month', cast({{ start_date }} as date), cast({{ end_date }} as date))
{%- endmacro %}
