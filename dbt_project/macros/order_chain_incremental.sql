{#-
    The incremental rule of the order chain (int_orders_converted, int_orders_attributed,
    fct_orders; DECISIONLOG "Build mechanics").

    rebuild_loaded_after(loaded_at_column): a scalar subquery on the model's own table: rows whose
    inputs were loaded after it are rebuilt. It is the newest `loaded_at_column` already in the
    table minus var fct_orders_lookback_days; 1900-01-01 (everything) when the table is empty or
    was built with another reporting currency or timezone (every amount or day would change).

    moved_order_customers(upstream): the customers whose orders before others may have left or
    changed them: orders of the table whose batch left `upstream` (batch_left: replaced or removed,
    without them or with an older version of them as the latest), whose contact version's batch
    left `upstream` (the contact is gone, or an older version of it is the latest again:
    contact_batch_left, DECISIONLOG 78), or whose
    upstream row loaded after the model's `rebuild_window` has another customer_id or created_at
    (a restated order). The newest load among the orders up to an order does not see an order
    leave, so these customers' orders are rebuilt whole.

    delete_vanished_orders(upstream, key_column='order_id'): the post-hook that deletes those
    orders from the table (also used by int_messages_converted, keyed by message_id).

    select_changed_orders(loaded_at_column, key_column, rebuilt_keys, rebuilt_orders, incremental):
    the orders a model builds from its import CTE `orders`: all of them on a full build (or when
    `incremental` is false: a stored table of an earlier release); incrementally those
    whose `loaded_at_column` is after the model's `rebuild_window` CTE (a select of
    rebuild_loaded_after), those whose `key_column` is in `rebuilt_keys` (a single-column select)
    and those whose order_id is in `rebuilt_orders` (optional, a single-column select).
-#}
{% macro rebuild_loaded_after(loaded_at_column) -%}
    (
        select
            case
                when max(
                    case
                        when previous_build.reporting_currency != '{{ var("reporting_currency") | upper }}'
                            or previous_build.reporting_timezone != '{{ var("reporting_timezone") }}'
                            then 1
                        else 0
                    end
                ) = 1
                    then cast('1900-01-01' as timestamp)
                else {{ growthops.lookback_watermark(loaded_at_column) }}
            end as rebuild_loaded_after
        from {{ this }} as previous_build
    )
{%- endmacro %}

{% macro moved_order_customers(upstream) -%}
    select previous_build.customer_id
    from {{ this }} as previous_build
    where
        previous_build.customer_id is not null
        and {{ growthops.batch_left('previous_build', upstream) }}

    union

    {{ growthops.contact_batch_left(upstream, 'contact_batch_id') }}

    union

    select previous_build.customer_id
    from {{ this }} as previous_build
    inner join {{ upstream }} as upstream_orders
        on previous_build.order_id = upstream_orders.order_id
    cross join rebuild_window
    where
        previous_build.customer_id is not null
        and upstream_orders.inputs_loaded_at > rebuild_window.rebuild_loaded_after
        and (
            upstream_orders.customer_id is distinct from previous_build.customer_id
            or upstream_orders.created_at != previous_build.created_at
        )
{%- endmacro %}

{% macro delete_vanished_orders(upstream, key_column='order_id') -%}
    delete from {{ this }} as vanished
    where {{ growthops.vanished_order('vanished', upstream, key_column) }}
{%- endmacro %}

{#- vanished_order(alias, upstream): predicate on a row `alias` of the model's table: its order is
    no longer in `upstream`. An order leaves the chain only when every raw batch holding a version
    of it is removed or replaced without it (macros/incremental_latest_version.sql), that of the
    row's own version included, and every row of the chain carries its version's batch: so only
    rows whose source_batch_id is in no upstream row can have vanished, and only those few are
    looked up by order_id (not every upstream order id hashed: at 10M orders 0.74-1.14 s ->
    0.23-0.27 s per use; DECISIONLOG 69). -#}
{% macro upstream_batches(upstream, column='source_batch_id') -%}
    select distinct upstream_batches.{{ column }}
    from {{ upstream }} as upstream_batches
    where upstream_batches.{{ column }} is not null
{%- endmacro %}

{#- batch_left(alias, upstream, column, upstream_column): predicate on a row `alias` of the model's
    table: its version's batch (`column`, default source_batch_id) is in no upstream row (its
    `upstream_column`, default the same). The row's key vanished (vanished_order), or another
    version of it is the latest upstream now: a re-delivered file withdrew the newest version and
    an older one, with its older load time, took its place; no load watermark sees that
    (DECISIONLOG 76). -#}
{% macro batch_left(alias, upstream, column='source_batch_id', upstream_column=none) -%}
    {{ alias }}.{{ column }} not in ({{ growthops.upstream_batches(upstream, upstream_column or column) }})
{%- endmacro %}

{#- contact_batch_left(contacts, batch_column): the customers of the model's stored rows (aliased
    previous_build) attributed from a contact version whose batch is in no row of `contacts` (its
    `batch_column`): a re-delivered CRM file withdrew the contact (it is gone: its orders are
    unattributed now) or its newest version (an older one is the latest again, with its older
    load time: no watermark sees either; DECISIONLOG 78). Guest orders and orders of contacts
    unknown to the CRM have no contact batch. -#}
{% macro contact_batch_left(contacts, batch_column) -%}
    select previous_build.customer_id
    from {{ this }} as previous_build
    where {{ growthops.batch_left('previous_build', contacts, 'contact_batch_id', batch_column) }}
{%- endmacro %}

{#- rebatched_rows(upstream, key_column): the keys of the model's stored rows (aliased
    previous_build) whose batch left upstream (batch_left): rebuilt from their latest version, or
    deleted by the post-hook when they have none. -#}
{% macro rebatched_rows(upstream, key_column='order_id') -%}
    select previous_build.{{ key_column }}
    from {{ this }} as previous_build
    where {{ growthops.batch_left('previous_build', upstream) }}
{%- endmacro %}

{% macro vanished_order(alias, upstream, key_column='order_id') -%}
    {%- set upstream_batches = growthops.upstream_batches(upstream) -%}
    (
        {{ alias }}.source_batch_id not in ({{ upstream_batches }})
        and {{ alias }}.{{ key_column }} not in (
            -- the upstream keys among the few candidates: upstream probes them (uncorrelated,
            -- so it stays cheap under an `or`, where a correlated not exists hashed every key)
            select upstream_orders.{{ key_column }}
            from {{ upstream }} as upstream_orders
            where upstream_orders.{{ key_column }} in (
                select candidates.{{ key_column }}
                from {{ this }} as candidates
                where candidates.source_batch_id not in ({{ upstream_batches }})
            )
        )
    )
{%- endmacro %}

{% macro select_changed_orders(
    loaded_at_column, key_column, rebuilt_keys, rebuilt_orders=none, incremental=none
) -%}
    select orders.*
    from orders
    {%- if (is_incremental() if incremental is none else incremental) %}
        where
            orders.{{ loaded_at_column }} > (select rebuild_window.rebuild_loaded_after from rebuild_window)
            or orders.{{ key_column }} in ({{ rebuilt_keys }})
            {%- if rebuilt_orders %}
            or orders.order_id in ({{ rebuilt_orders }})
            {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- The load watermark of an incremental model: the newest `loaded_at_column` in its own table
    (aliased previous_build) minus var fct_orders_lookback_days; 1900-01-01 when it is empty. -#}
{% macro lookback_watermark(loaded_at_column) -%}
    coalesce(
        {{ dbt.dateadd(
            'day',
            -1 * var('fct_orders_lookback_days'),
            'max(previous_build.' ~ loaded_at_column ~ ')',
        ) }},
        cast('1900-01-01' as timestamp)
    )
{%- endmacro %}

{#- rerated_rows(key_column, date_column): the keys of the model's stored rows (aliased
    previous_build) whose day's fx rate (`fx_rates`: the import CTE of int_fx_rates_filled_daily)
    was loaded after the model's `rebuild_window` CTE: a late or re-delivered rate converts them
    again. -#}
{% macro rerated_rows(key_column, date_column) -%}
    select previous_build.{{ key_column }}
    from {{ this }} as previous_build
    inner join fx_rates
        on
            previous_build.currency = fx_rates.currency
            and previous_build.{{ date_column }} = fx_rates.rate_day
    cross join rebuild_window
    where fx_rates.source_loaded_at > rebuild_window.rebuild_loaded_after
{%- endmacro %}
