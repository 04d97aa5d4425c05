with

orders as (

    select * from {{ ref('int_orders_attributed') }}

),

aggregated as (

    select
        orders.customer_id,
        count(*) as orders_count,
        sum(case when orders.is_valid then 1 else 0 end) as valid_orders_count,
        sum(orders.net_revenue) as net_revenue,
        min(case when orders.is_valid then orders.order_date end) as first_valid_order_date,
        max(case when orders.is_valid then orders.order_date end) as last_valid_order_date,
        max(orders.order_date) as last_order_date

    from orders
    where orders.customer_id is not null
    group by orders.customer_id

)

select * from aggregated
