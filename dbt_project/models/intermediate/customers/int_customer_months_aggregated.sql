with

orders as (

    select * from {{ ref('int_orders_attributed') }}

),

customer_months as (

    select
        orders.customer_id,
        orders.order_month as activity_month,
        sum(case when orders.is_valid then 1 else 0 end) as valid_orders_count,
        sum(orders.net_revenue) as net_revenue

    from orders
    where
        orders.customer_id is not null
        and orders.is_revenue_counted
    group by orders.customer_id, orders.order_month

),

final as (

    select
        customer_months.customer_id,
        customer_months.activity_month,
        customer_months.valid_orders_count,
        customer_months.valid_orders_count > 0 as is_active,
        customer_months.net_revenue

    from customer_months

)

select * from final
