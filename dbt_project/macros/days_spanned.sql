{#-
    A select of one row per day, as `day_column`, from the earliest `first_day` to the latest
    `last_day` of `relation` inclusive (both date columns); no row when the relation is empty.
    The date spine of the fx rate grid and of the report periods.
-#}
{% macro days_spanned(relation, first_day, last_day, day_column) -%}
    select {{ growthops.date_series('spanned.first_day', 'spanned.last_day') }} as {{ day_column }}
    from (
        select
            min({{ relation }}.{{ first_day }}) as first_day,
            max({{ relation }}.{{ last_day }}) as last_day

        from {{ relation }}
    ) as spanned
    where spanned.first_day is not null
{%- endmacro %}
