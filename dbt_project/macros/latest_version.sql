{#-
    "Newest version wins", the rule every staging model of a re-sent export applies (SPEC §2: a
    contact, an order, a restated ad day or a rate appears again whenever it changes).

    newest_version(relation, key_columns, newest_first) selects every column of `relation`,
    one row per key: the row that wins first by the model's own change columns (e.g. updated_at),
    then by the newest batch (export day, load time, batch id), then the later file and the later
    line. Only the key and lineage columns are ranked and the winning row is joined back by its
    lineage (batch, file, line): a `distinct on` over every column kept whole rows in the sort and
    needed 3.7 GB at 2.4M order versions.

    Two implementations (dispatch), equal row for row (tests/dbt/test_newest_version.py):
    - default (PostgreSQL): row_number() over the key, ordered newest first.
    - duckdb: one integer per version and a spilling `max` per key (DECISIONLOG 53). A window does
      not spill in DuckDB: at 24M order versions (10M orders) the row_number ranking alone needed
      4.1 GB and the model ran out of DuckDB's 4 GB memory_limit. The version code is
      newest_first (a timestamp, as epoch microseconds) << 64 | file rank << 32 | line, where the
      file rank orders the relation's distinct (batch day, load time, batch id, file): the same
      lexicographic order as the window's, so the max per key is the window's first row.
      The relation is read three times (files, max, winners): its CTEs are `not materialized` in
      the staging models, or DuckDB keeps every version of the relation in memory to read it again
      (4.3 GB RSS instead of 1.9 GB at 10M orders).
-#}
{% macro newest_version(relation, key_columns, newest_first=[]) -%}
    {{ return(adapter.dispatch('newest_version', 'growthops')(relation, key_columns, newest_first)) }}
{%- endmacro %}

{% macro default__newest_version(relation, key_columns, newest_first) -%}
    {%- set ranked = 'ranked_versions' -%}
    {#- one raw row = one line of one file of one batch: the join back to the whole row -#}
    {%- set row_columns = ['source_batch_id', 'source_file', 'source_line'] -%}
    select {{ relation }}.*
    from {{ relation }}
    inner join (
        select
            {%- for column in row_columns %}
            {{ relation }}.{{ column }},
            {%- endfor %}
            row_number() over (
                partition by {% for column in key_columns %}{{ relation }}.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
                order by
                    {%- for column in newest_first %}
                    {{ relation }}.{{ column }} desc,
                    {%- endfor %}
                    {{ relation }}.source_batch_day desc,
                    {{ relation }}.source_loaded_at desc,
                    {{ relation }}.source_batch_id desc,
                    {{ relation }}.source_file desc,
                    {{ relation }}.source_line desc
            ) as version_rank
        from {{ relation }}
    ) as {{ ranked }}
        on
            {%- for column in row_columns %}
            {{ ranked }}.{{ column }} = {{ relation }}.{{ column }}{{ ' and' if not loop.last }}
            {%- endfor %}
    where {{ ranked }}.version_rank = 1
{%- endmacro %}

{% macro duckdb__newest_version(relation, key_columns, newest_first) -%}
    {%- if newest_first | length > 1 -%}
        {{ exceptions.raise_compiler_error(
            'newest_version on DuckDB orders by at most one newest_first column (a timestamp), got '
            ~ newest_first | join(', ')) }}
    {%- endif -%}
    {%- set batch_columns = ['source_batch_day', 'source_loaded_at', 'source_batch_id', 'source_file'] -%}
    {#- a version's place in the newest-first order as one 128-bit integer, unique per row -#}
    {%- set version_code -%}
        {%- for column in newest_first -%}
            (coalesce(epoch_us({{ relation }}.{{ column }}), -4611686018427387904)::hugeint << 64)
            + {% endfor -%}
        (ranked_files.file_rank::hugeint << 32) + {{ relation }}.source_line
    {%- endset -%}
    {%- set join_ranked_files -%}
        inner join ranked_files
            on
            {%- for column in batch_columns %}
            ranked_files.{{ column }} = {{ relation }}.{{ column }}{{ ' and' if not loop.last }}
            {%- endfor %}
    {%- endset -%}
    with ranked_files as (
        select
            {%- for column in batch_columns %}
            batch_files.{{ column }},
            {%- endfor %}
            row_number() over (
                order by {% for column in batch_columns %}batch_files.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
            ) as file_rank
        from (
            select distinct
                {%- for column in batch_columns %}
                {{ relation }}.{{ column }}{{ ',' if not loop.last }}
                {%- endfor %}
            from {{ relation }}
        ) as batch_files
    )

    select {{ relation }}.*
    from {{ relation }}
    {{ join_ranked_files }}
    semi join (
        select max({{ version_code }}) as newest_code
        from {{ relation }}
        {{ join_ranked_files }}
        group by {% for column in key_columns %}{{ relation }}.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
    ) as newest_versions
        on newest_versions.newest_code = {{ version_code }}
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
