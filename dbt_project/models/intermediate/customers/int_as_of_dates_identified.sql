with

orders as (

    select * from {{ ref('int_orders_converted') }}

),

-- the data's as-of date: the latest order date loaded (any status, reporting timezone); one row,
-- with a null date while no order is loaded
as_of as (

    select max(orders.order_date) as as_of_date
    from orders

)

select * from as_of
