{#-
    The incremental rule of int_customer_segments_dated (DECISIONLOG 72).

    segment_fingerprints(orders, first_orders): one row per customer with a valid order (a row of
    `first_orders`) and its orders_fingerprint: one number over every input of the customer's
    segment rows (each of its orders' id, day, valid order number, validity, revenue flag and net
    revenue; its first-touch channel and first order day; the segment rules' vars). Stored with
    every row; a customer whose current number is not stored is rebuilt whole.

    delete_stale_segments(first_orders, report_periods): the post-hook that deletes the rows of a
    customer left without a valid order, the rows whose fingerprint is not the one on their
    customer's as-of month row (rows a customer lost: months before a first order that moved
    later), and the rows of a month whose segment date is no longer the month's (the as-of date
    moved back). It relies on every customer having a row in every month from its first valid
    order's to the as-of month, which the model keeps.
-#}
{% macro segment_fingerprints(orders, first_orders) -%}
    select
        first_orders.customer_id,
        {{ growthops.row_hash([
            'customer_orders.orders_hash',
            'customer_orders.orders_count',
            'first_orders.channel',
            'first_orders.first_order_date',
            var('new_days') | int,
            var('active_days') | int,
            var('reactivation_days') | int,
        ]) }} as orders_fingerprint
    from {{ first_orders }} as first_orders
    inner join (
        select
            fingerprinted.customer_id,
            sum({{ growthops.row_hash([
                'fingerprinted.order_id',
                'fingerprinted.order_date',
                'fingerprinted.valid_order_number',
                'fingerprinted.is_valid',
                'fingerprinted.is_revenue_counted',
                'fingerprinted.net_revenue',
            ]) }}) as orders_hash,
            count(*) as orders_count
        from {{ orders }} as fingerprinted
        where fingerprinted.customer_id is not null
        group by fingerprinted.customer_id
    ) as customer_orders
        on first_orders.customer_id = customer_orders.customer_id
{%- endmacro %}

{% macro delete_stale_segments(first_orders, report_periods) -%}
    {%- set as_of_month -%}
        select max(months.period_start)
        from {{ report_periods }} as months
        where months.period_grain = 'month'
    {%- endset -%}
    delete from {{ this }} as stale
    where
        stale.customer_id not in (select first_orders.customer_id from {{ first_orders }} as first_orders)
        -- every customer with a valid order has a row in the as-of month with its current
        -- fingerprint (rebuilt, carried forward or stored unchanged by this run): a row with
        -- another one is stale
        or not exists (
            select 1
            from {{ this }} as as_of_rows
            where
                as_of_rows.segment_month = ({{ as_of_month }})
                and as_of_rows.customer_id = stale.customer_id
                and as_of_rows.orders_fingerprint = stale.orders_fingerprint
        )
        or not exists (
            select 1
            from {{ report_periods }} as months
            where
                months.period_grain = 'month'
                and months.period_start = stale.segment_month
                and months.closing_date = stale.segment_date
                and months.is_complete = stale.is_complete
        )
{%- endmacro %}
