{#-
    The incremental rule of a latest-version staging model (stg_orders__orders, stg_crm__contacts,
    stg_messages__sends; DECISIONLOG 47, 61).

    A raw version is only ever added with a new batch or removed with its whole batch (a
    re-delivered file replaces its batch: growthops.ingest.commit), so the keys whose newest
    version can have changed since the model's last build are:
    - the keys with a raw version loaded after the newest source_loaded_at already in the table
      minus var fct_orders_lookback_days (new days, late versions, replacing batches); every key
      when the table is empty;
    - the keys whose stored row came from a batch no longer in raw (replaced or removed: their
      newest version is now an older one, or there is none left).

    changed_versions(versions, key_column): every raw version of those keys (every version on a
    full refresh or an empty table): the model's input to newest_version.

    versions_to_restage(versions, key_column): select of those keys; `versions` is the model's
    CTE of every renamed raw version with its lineage columns (source_batch_id, source_loaded_at).
    The model recomputes the newest version of each over all its raw versions (delete+insert on
    the key), exactly like a full refresh.

    delete_unsourced_rows(raw_relation): the post-hook deleting the rows whose batch is no longer
    in `raw_relation` after that: keys left without any raw version.
-#}
{% macro changed_versions(versions, key_column) -%}
    select {{ versions }}.*
    from {{ versions }}
    {% if is_incremental() -%}
        where {{ versions }}.{{ key_column }} in ({{ growthops.versions_to_restage(versions, key_column) }})
    {%- endif %}
{%- endmacro %}

{% macro versions_to_restage(versions, key_column) -%}
    select new_versions.{{ key_column }}
    from {{ versions }} as new_versions
    where new_versions.source_loaded_at > (
        select {{ growthops.lookback_watermark('source_loaded_at') }} as restage_loaded_after
        from {{ this }} as previous_build
    )

    union

    select previous_build.{{ key_column }}
    from {{ this }} as previous_build
    where previous_build.source_batch_id not in (
        -- distinct: the anti-join's hash table holds one entry per batch, not per raw version
        -- (24M at 10M orders: 10.1 s -> 5.0 s for the model's select, DECISIONLOG 60)
        select distinct raw_batches.source_batch_id from {{ versions }} as raw_batches
    )
{%- endmacro %}

{% macro delete_unsourced_rows(raw_relation) -%}
    delete from {{ this }}
    where source_batch_id not in (select distinct raw_versions._batch_id from {{ raw_relation }} as raw_versions)
{%- endmacro %}
