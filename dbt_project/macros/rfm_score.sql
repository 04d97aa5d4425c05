{#-
    RFM score 1-5 (5 = best) of a value among `n` ranked rows (SPEC §11): 1 + floor(5 x (rank() - 1) / n),
    rank() ascending, so ties share the lower score. Integer arithmetic only: identical on every warehouse.
    `order_by` is the window's order (ascending = worst first), `n` the number of ranked rows.
-#}
{% macro rfm_score(order_by, n, partition_by=none) -%}
    cast(1 + {{ growthops.integer_divide(
        '5 * (rank() over (' ~ ('partition by ' ~ partition_by ~ ' ' if partition_by else '') ~ 'order by ' ~ order_by ~ ') - 1)',
        n,
    ) }} as integer)
{%- endmacro %}
