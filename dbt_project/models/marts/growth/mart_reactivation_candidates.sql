{%- set reactivation_days = var('reactivation_days') | int -%}

with

contacts as (

    select * from {{ ref('int_contacts_attributed') }}

),

first_orders as (

    select * from {{ ref('int_first_orders_identified') }}

),

contact_orders as (

    select * from {{ ref('int_contact_orders_aggregated') }}

),

orders as (

    select * from {{ ref('int_orders_converted') }}

),

last_recall_messages as (

    select * from {{ ref('int_contacts_last_recall_message') }}

),

as_of as (

    select max(orders.order_date) as as_of_date
    from orders

),

customers as (

    select
        first_orders.customer_id,
        first_orders.channel,
        first_orders.campaign,
        first_orders.is_known_contact,
        first_orders.first_order_date,
        contact_orders.last_valid_order_date as last_order_date,
        {{ growthops.days_between('contact_orders.last_valid_order_date', 'as_of.as_of_date') }}
            as days_since_last_order,
        contact_orders.valid_orders_count as orders_count,
        contact_orders.net_revenue as lifetime_net_revenue,
        as_of.as_of_date

    from first_orders
    cross join as_of
    inner join contact_orders
        on first_orders.customer_id = contact_orders.customer_id

),

-- lapsed: the last valid order is strictly more than `reactivation_days` days before the as-of date
candidates as (

    select
        customers.customer_id,
        customers.channel,
        customers.campaign,
        customers.is_known_contact,
        coalesce(contacts.is_deleted, false) as is_erased,
        contacts.email_sha256,
        contacts.country_code,
        contacts.lifecycle_stage,
        customers.first_order_date,
        customers.last_order_date,
        cast(customers.days_since_last_order as bigint) as days_since_last_order,
        cast(customers.orders_count as bigint) as orders_count,
        cast(customers.lifetime_net_revenue as decimal(18, 4)) as lifetime_net_revenue,
        {{ growthops.money_divide('customers.lifetime_net_revenue', 'customers.orders_count') }}
            as average_order_value,
        customers.as_of_date,
        cast({{ reactivation_days }} as integer) as reactivation_days,
        '{{ var("reporting_currency") | upper }}' as reporting_currency,
        -- the customer's latest recall row (message or holdout): who was already contacted
        last_recall_messages.last_recall_campaign_id,
        last_recall_messages.last_recall_campaign_name,
        last_recall_messages.last_recall_sent_at,
        last_recall_messages.last_recall_is_holdout

    from customers
    left join contacts
        on customers.customer_id = contacts.contact_id
    left join last_recall_messages
        on customers.customer_id = last_recall_messages.contact_id
    where customers.days_since_last_order > {{ reactivation_days }}

)

select * from candidates
