{#-
    The `all` row of each key is the sum of the other rows of that key: for every column of
    `sum_columns`, the row whose `part_column` is `all_value` equals the sum over the rows with
    any other value (e.g. the `all` channel of a month is the sum of its channels). A key with
    parts but no `all` row, or an `all` row without parts, fails too. Returns the keys that do
    not add up, with both values of every column.
-#}
{% test all_row_adds_up(model, part_column, key_columns, sum_columns, all_value='all') %}

with

parts as (

    select
        {%- for key in key_columns %}
        {{ key }},
        {%- endfor %}
        {%- for column in sum_columns %}
        sum({{ column }}) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}

    from {{ model }}
    where {{ part_column }} != '{{ all_value }}'
    group by {{ key_columns | join(', ') }}

),

all_rows as (

    select *
    from {{ model }}
    where {{ part_column }} = '{{ all_value }}'

)

select
    {%- for key in key_columns %}
    coalesce(all_rows.{{ key }}, parts.{{ key }}) as {{ key }},
    {%- endfor %}
    {%- for column in sum_columns %}
    all_rows.{{ column }} as all_{{ column }},
    parts.{{ column }} as sum_of_parts_{{ column }}{{ "," if not loop.last }}
    {%- endfor %}

from all_rows
full outer join parts
    on
        {%- for key in key_columns %}
        {{ "and " if not loop.first }}all_rows.{{ key }} = parts.{{ key }}
        {%- endfor %}
where
    all_rows.{{ key_columns[0] }} is null
    or parts.{{ key_columns[0] }} is null
    {%- for column in sum_columns %}
    or all_rows.{{ column }} != parts.{{ column }}
    {%- endfor %}

{% endtest %}
