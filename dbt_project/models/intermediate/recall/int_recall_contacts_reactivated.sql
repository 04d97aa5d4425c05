with

assigned as (

    select * from {{ ref('int_recall_contacts_assigned') }}

),

-- not materialized: read twice below, DuckDB would otherwise copy every column of every order
-- (10M at 10M orders) to read four of them (DECISIONLOG 77)
orders as not materialized (

    select * from {{ ref('int_orders_converted') }}

),

attributed_orders as (

    select * from {{ ref('int_recall_orders_attributed') }}

),

-- the data's as-of date: the latest order date loaded (reporting timezone)
as_of as (

    select max(orders.order_date) as as_of_date
    from orders

),

-- valid orders with sent_at < created_at <= sent_at + window; each campaign on its own
window_orders as (

    select
        assigned.campaign_id,
        assigned.contact_id,
        count(*) as window_orders_count,
        sum(orders.net_revenue) as window_revenue

    from assigned
    inner join orders
        on
            assigned.contact_id = orders.contact_id
            and assigned.sent_at < orders.created_at
            and assigned.window_ends_at >= orders.created_at
    where orders.is_valid
    group by
        assigned.campaign_id,
        assigned.contact_id

),

attributed as (

    select
        attributed_orders.campaign_id,
        attributed_orders.contact_id,
        count(*) as attributed_orders_count

    from attributed_orders
    group by
        attributed_orders.campaign_id,
        attributed_orders.contact_id

),

reactivated as (

    select
        assigned.*,
        cast(coalesce(window_orders.window_orders_count, 0) as bigint) as window_orders_count,
        window_orders.campaign_id is not null as is_reactivated,
        cast(coalesce(window_orders.window_revenue, 0) as decimal(18, 4)) as window_revenue,
        cast(coalesce(attributed.attributed_orders_count, 0) as bigint) as attributed_orders_count,
        attributed.campaign_id is not null as has_attributed_order,
        assigned.matures_on <= as_of.as_of_date as is_mature,
        as_of.as_of_date

    from assigned
    cross join as_of
    left join window_orders
        on
            assigned.campaign_id = window_orders.campaign_id
            and assigned.contact_id = window_orders.contact_id
    left join attributed
        on
            assigned.campaign_id = attributed.campaign_id
            and assigned.contact_id = attributed.contact_id

)

select * from reactivated
