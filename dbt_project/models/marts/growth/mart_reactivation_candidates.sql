{%- set reactivation_days = var('reactivation_days') | int -%}

with

customers as (

    select * from {{ ref('dim_customers') }}

),

-- lapsed: the last valid order is strictly more than `reactivation_days` days before the as-of date
candidates as (

    select
        customers.customer_id,
        customers.first_touch_channel as channel,
        customers.first_touch_campaign as campaign,
        customers.is_known_contact,
        customers.is_erased,
        customers.email_sha256,
        customers.country_code,
        customers.lifecycle_stage,
        customers.first_order_date,
        customers.last_order_date,
        customers.days_since_last_order,
        -- lapsed at t when t's date - last valid order date > reactivation_days (SPEC §11)
        {{ growthops.add_days('customers.last_order_date', reactivation_days + 1) }} as lapsed_since,
        customers.segment,
        customers.orders_count,
        customers.lifetime_net_revenue,
        {{ growthops.money_divide('customers.lifetime_net_revenue', 'customers.orders_count') }}
            as average_order_value,
        customers.as_of_date,
        cast({{ reactivation_days }} as integer) as reactivation_days,
        customers.reporting_currency,
        -- the customer's latest recall row (message or holdout): who was already contacted
        customers.last_recall_campaign_id,
        customers.last_recall_campaign_name,
        customers.last_recall_sent_at,
        customers.last_recall_is_holdout

    from customers
    where customers.days_since_last_order > {{ reactivation_days }}

)

select * from candidates
