{#-
    Select-list lines (comma-separated, no trailing comma) summing many measures the same way:
    `sum(<relation>.<column>) as <column>` for each column of `columns`. Given a mapping
    column -> SQL type instead of a list, each sum is cast: `cast(sum(...) as <type>) as <column>`.
    A rollup of many measures is then one call instead of one hand-written line per measure.
-#}
{% macro sum_columns(relation, columns) -%}
    {%- for column in columns %}
        {%- set summed = 'sum(' ~ relation ~ '.' ~ column ~ ')' %}
        {%- if columns is mapping %}
        cast({{ summed }} as {{ columns[column] }}) as {{ column }}{{ "," if not loop.last }}
        {%- else %}
        {{ summed }} as {{ column }}{{ "," if not loop.last }}
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#-
    Select-list lines (comma-separated, no trailing comma) of one side of a union of measures:
    each column of `columns` as its expression in the mapping `values`, or 0 when the side does not
    carry that measure (e.g. the signup side of the daily funnel has signups and 0 spend), so every
    side lists the same columns in the same order.
-#}
{% macro measures_or_zero(columns, values) -%}
    {%- for column in columns %}
        {{ values.get(column, '0') }} as {{ column }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#-
    Select-list lines (comma-separated, no trailing comma) casting columns of one relation to one
    type under their own names: `cast(<relation>.<column> as <type>) as <column>` (e.g. exact sums
    back to the contract's bigint counts); with `coalesce_to`, a null becomes that value first
    (`cast(coalesce(<relation>.<column>, 0) as bigint)` for a period without rows).
-#}
{% macro cast_columns(relation, columns, type, coalesce_to=none) -%}
    {%- for column in columns %}
        {%- set value = relation ~ '.' ~ column %}
        {%- if coalesce_to is not none %}{% set value = 'coalesce(' ~ value ~ ', ' ~ coalesce_to ~ ')' %}{% endif %}
        cast({{ value }} as {{ type }}) as {{ column }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#-
    Select-list lines (comma-separated, no trailing comma) carrying columns of one relation under
    their own names: `<relation>.<column>` for each column of `columns`.
-#}
{% macro relation_columns(relation, columns) -%}
    {%- for column in columns %}
        {{ relation }}.{{ column }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#-
    A boolean expression, true when any column of `columns` differs between two joined relations:
    `(<left>.<column> != <right>.<column> or ...)` (a null on either side is not a difference).
-#}
{% macro any_column_differs(left, right, columns) -%}
    (
    {%- for column in columns %}
        {{ "or " if not loop.first }}{{ left }}.{{ column }} != {{ right }}.{{ column }}
    {%- endfor %}
    )
{%- endmacro %}
