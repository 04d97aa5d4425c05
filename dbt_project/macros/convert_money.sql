{#-
    A local amount (decimal(18, 4)) in the reporting currency at a rate (decimal(18, 10)), rounded
    half away from zero to decimal(18, 4). The product is taken in a 38-digit decimal: DuckDB keeps
    decimal(18, 4) * decimal(18, 10) in 18 digits (decimal(18, 14)) and fails with "Overflow in
    multiplication" from 10,000 local units up (PostgreSQL's numeric has no such limit).
    Null when the rate is null (a currency without a rate fails its fx_rate_is_available test).
-#}
{% macro convert_money(amount, rate) -%}
    cast(round(cast({{ amount }} as decimal(38, 4)) * {{ rate }}, 4) as decimal(18, 4))
{%- endmacro %}
