{#-
    "Newest version wins", the rule every staging model of a re-sent export applies (SPEC §2: a
    contact, an order, a restated ad day or a rate appears again whenever it changes).

    newest_version(relation, key_columns, newest_first) selects every column of `relation`,
    one row per key: the row that wins first by the model's own change columns (e.g. updated_at),
    then by the newest batch (export day, load time, batch id), then the later file and the later
    line. `distinct on` keeps the first row of each key in that order (DuckDB and PostgreSQL).
-#}
{% macro newest_version(relation, key_columns, newest_first=[]) -%}
    {%- set keys = [] -%}
    {%- for column in key_columns -%}
        {%- do keys.append(relation ~ '.' ~ column) -%}
    {%- endfor -%}
    select distinct on ({{ keys | join(', ') }}) {{ relation }}.*
    from {{ relation }}
    order by
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        {%- for column in newest_first %}
        {{ relation }}.{{ column }} desc,
        {%- endfor %}
        {{ relation }}.source_batch_day desc,
        {{ relation }}.source_loaded_at desc,
        {{ relation }}.source_batch_id desc,
        {{ relation }}.source_file desc,
        {{ relation }}.source_line desc
{%- endmacro %}

{#-
    The lineage columns every raw row carries, renamed for staging (SPEC: every row keeps the id
    of the source batch it came from): source_batch_id, source_batch_day, source_file,
    source_line, source_loaded_at.
-#}
{% macro lineage_columns(relation) -%}
    {{ relation }}._batch_id as source_batch_id,
        {{ relation }}._batch_day as source_batch_day,
        {{ relation }}._source_file as source_file,
        {{ relation }}._source_line as source_line,
        {{ relation }}._loaded_at as source_loaded_at
{%- endmacro %}
