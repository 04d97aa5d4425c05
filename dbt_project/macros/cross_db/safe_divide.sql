{#-
    numerator / denominator as a double, null when the denominator is 0 or null
    (SPEC §3: ratios are null, never infinite or zero, when the denominator is 0).
-#}
{% macro safe_divide(numerator, denominator) -%}
    cast({{ numerator }} as double precision) / nullif(cast({{ denominator }} as double precision), 0)
{%- endmacro %}

{#- Money per unit (cpc, cpl, cac): decimal(18,4), null when the denominator is 0 or null. -#}
{% macro money_divide(numerator, denominator) -%}
    cast(round({{ growthops.safe_divide(numerator, denominator) }}, 4) as decimal(18, 4))
{%- endmacro %}
