{#-
    Every row satisfies a boolean SQL expression over the model's columns (dbt Hub packages
    cannot be fetched, so the expression tests are project macros). The expression is always a
    complete condition, also when the test is declared under a column. Failing rows are returned.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
