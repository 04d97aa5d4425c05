{#-
    numerator / denominator as a double, null when the denominator is 0 or null
    (SPEC §3: ratios are null, never infinite or zero, when the denominator is 0).
-#}
{% macro safe_divide(numerator, denominator) -%}
    cast({{ numerator }} as double precision) / nullif(cast({{ denominator }} as double precision), 0)
{%- endmacro %}

{#-
    Money per unit (cpc, cpl, cac, ltv_per_customer, average_order_value): decimal(18,4), null when
    the denominator is 0 or null. `numerator` is money with at most 4 decimals, `denominator` an
    integer count. Computed exactly, in integers of 1/10000 of the currency, and rounded half away
    from zero: a double quotient would round a tie (12.3451 / 2) either way, differently on
    DuckDB and PostgreSQL.
-#}
{% macro money_divide(numerator, denominator) -%}
    {%- set units = 'cast(' ~ numerator ~ ' * 10000 as bigint)' -%}
    {%- set count = 'cast(' ~ denominator ~ ' as bigint)' -%}
    cast(
        case
            when {{ count }} = 0 then null
            when {{ units }} >= 0
                then cast({{ growthops.integer_divide(units ~ ' * 2 + ' ~ count, count ~ ' * 2') }} as decimal(18, 0))
            else -cast({{ growthops.integer_divide('-' ~ units ~ ' * 2 + ' ~ count, count ~ ' * 2') }} as decimal(18, 0))
        end * cast(0.0001 as decimal(5, 4))
        as decimal(18, 4)
    )
{%- endmacro %}
