-- mart_customer_activity_monthly / _weekly, channel `all`: active customers = distinct buyers
-- (customers with a valid order) in fct_orders per month and per ISO week; and the growth
-- accounting identity active(m - 1) = retained(m) + churned(m) wherever both are known.
-- Returns the months / weeks that do not reconcile.
with

monthly as (

    select * from {{ ref('mart_customer_activity_monthly') }}

),

weekly as (

    select * from {{ ref('mart_customer_activity_weekly') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

-- channel `all` of both marts, one row per period and period start
activity as (

    select
        'month' as period,
        monthly.activity_month as period_start,
        monthly.active_customers

    from monthly
    where monthly.channel = 'all'

    union all

    select
        'week' as period,
        weekly.week_start as period_start,
        weekly.active_customers

    from weekly
    where weekly.channel = 'all'

),

buyer_orders as (

    select
        orders.customer_id,
        orders.order_month,
        {{ growthops.week_start('orders.order_date') }} as order_week

    from orders
    where
        orders.is_valid
        and orders.customer_id is not null

),

buyers as (

    select
        'month' as period,
        buyer_orders.order_month as period_start,
        count(distinct buyer_orders.customer_id) as buyers

    from buyer_orders
    group by buyer_orders.order_month

    union all

    select
        'week' as period,
        buyer_orders.order_week as period_start,
        count(distinct buyer_orders.customer_id) as buyers

    from buyer_orders
    group by buyer_orders.order_week

),

activity_mismatches as (

    select
        coalesce(activity.period, buyers.period) as period,
        coalesce(activity.period_start, buyers.period_start) as period_start,
        activity.active_customers,
        buyers.buyers as fct_orders_buyers

    from activity
    full outer join buyers
        on
            activity.period = buyers.period
            and activity.period_start = buyers.period_start
    where coalesce(activity.active_customers, 0) != coalesce(buyers.buyers, 0)

),

previous_months as (

    select
        monthly.*,
        lag(monthly.active_customers) over (
            partition by monthly.channel
            order by monthly.activity_month
        ) as previous_active_customers

    from monthly

),

identity_mismatches as (

    select
        'identity ' || previous_months.channel as period,
        previous_months.activity_month as period_start,
        previous_months.previous_active_customers as active_customers,
        previous_months.retained_customers + previous_months.churned_customers as fct_orders_buyers

    from previous_months
    where
        previous_months.churned_customers is not null
        and previous_months.previous_active_customers
        != previous_months.retained_customers + previous_months.churned_customers

)

select * from activity_mismatches
union all
select * from identity_mismatches
