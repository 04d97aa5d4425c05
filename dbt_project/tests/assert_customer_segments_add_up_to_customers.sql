-- mart_customer_segments, channel `all`: the segments of each date add up to the customers with a
-- valid order on or before it (fct_orders), and each channel's segments add up to `all`.
-- Returns the dates that do not add up.
with

segments as (

    select * from {{ ref('mart_customer_segments') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

first_orders as (

    select
        orders.customer_id,
        min(orders.order_date) as first_order_date

    from orders
    where
        orders.is_valid
        and orders.customer_id is not null
    group by orders.customer_id

),

segment_dates as (

    select distinct segments.segment_date
    from segments

),

expected as (

    select
        segment_dates.segment_date,
        count(first_orders.customer_id) as customers

    from segment_dates
    left join first_orders
        on segment_dates.segment_date >= first_orders.first_order_date
    group by segment_dates.segment_date

),

totals as (

    select
        segments.segment_date,
        sum(case when segments.channel = 'all' then segments.customers else 0 end) as all_customers,
        sum(case when segments.channel != 'all' then segments.customers else 0 end) as channel_customers

    from segments
    group by segments.segment_date

),

mismatches as (

    select
        expected.segment_date,
        expected.customers as customers_with_a_valid_order,
        totals.all_customers,
        totals.channel_customers

    from expected
    left join totals
        on expected.segment_date = totals.segment_date
    where
        coalesce(totals.all_customers, 0) != expected.customers
        or coalesce(totals.channel_customers, 0) != expected.customers

)

select * from mismatches
