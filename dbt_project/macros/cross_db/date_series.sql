{#-
    Select-list expression that expands one input row into one row per day from `first_date` to
    `last_date` inclusive, as dates (no row when last_date < first_date). Use it alone in a select list:
        select {{ date_series('bounds.first_day', 'bounds.last_day') }} as calendar_day from bounds
-#}
{% macro date_series(first_date, last_date) -%}
    {{ growthops.add_days(first_date, growthops.integer_series('0', growthops.days_between(first_date, last_date))) }}
{%- endmacro %}
