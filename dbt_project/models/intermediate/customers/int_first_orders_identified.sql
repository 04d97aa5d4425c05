with

orders as (

    select * from {{ ref('int_orders_attributed') }}

),

first_orders as (

    select
        orders.customer_id,
        orders.order_id as first_order_id,
        orders.created_at as first_order_at,
        orders.order_date as first_order_date,
        orders.order_month as cohort_month,
        orders.net_revenue as first_order_net_revenue,
        orders.is_known_contact,
        orders.channel,
        orders.campaign

    from orders
    where orders.is_first_order

)

select * from first_orders
