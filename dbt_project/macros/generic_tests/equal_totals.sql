{#-
    The total of `expression` over the model equals the total of `compare_expression` over
    `compare_model` (to within `tolerance`): a reconciliation between two models. Returns one
    row with both totals when they differ.
-#}
{% test equal_totals(model, expression, compare_model, compare_expression, model_filter=none, compare_filter=none, tolerance=0.0001) %}

with

model_total as (
    select coalesce(sum({{ expression }}), 0) as total
    from {{ model }}
    {% if model_filter is not none %}where {{ model_filter }}{% endif %}
),

compare_total as (
    select coalesce(sum({{ compare_expression }}), 0) as total
    from {{ compare_model }}
    {% if compare_filter is not none %}where {{ compare_filter }}{% endif %}
)

select
    model_total.total as model_total,
    compare_total.total as compare_total
from model_total
cross join compare_total
where abs(model_total.total - compare_total.total) > {{ tolerance }}

{% endtest %}
