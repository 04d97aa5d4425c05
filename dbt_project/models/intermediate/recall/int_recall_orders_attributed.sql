with

assigned as (

    select * from {{ ref('int_recall_contacts_assigned') }}

),

orders as (

    select * from {{ ref('int_orders_converted') }}

),

-- a valid order inside the window of a lapsed contact's treated recall message
candidates as (

    select
        orders.order_id,
        orders.contact_id,
        orders.created_at,
        orders.net_revenue,
        assigned.campaign_id,
        assigned.first_message_id as message_id,
        assigned.sent_at,
        row_number() over (
            partition by orders.order_id
            order by assigned.sent_at desc, assigned.first_message_id desc
        ) as candidate_rank

    from assigned
    inner join orders
        on
            assigned.contact_id = orders.contact_id
            and assigned.sent_at < orders.created_at
            and assigned.window_ends_at >= orders.created_at
    where
        orders.is_valid
        and assigned.is_lapsed
        and not assigned.is_holdout

),

-- each order credited to at most one message: the latest before it (ties: latest message_id)
attributed as (

    select
        candidates.order_id,
        candidates.contact_id,
        candidates.created_at,
        candidates.net_revenue,
        candidates.campaign_id,
        candidates.message_id,
        candidates.sent_at

    from candidates
    where candidates.candidate_rank = 1

)

select * from attributed
