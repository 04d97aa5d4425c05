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

buyers_by_month as (

    select
        orders.order_month as period_start,
        count(distinct orders.customer_id) as buyers

    from orders
    where
        orders.is_valid
        and orders.customer_id is not null
    group by orders.order_month

),

buyers_by_week as (

    select
        {{ growthops.week_start('orders.order_date') }} as period_start,
        count(distinct orders.customer_id) as buyers

    from orders
    where
        orders.is_valid
        and orders.customer_id is not null
    group by {{ growthops.week_start('orders.order_date') }}

),

month_mismatches as (

    select
        'month' as period,
        coalesce(monthly.activity_month, buyers_by_month.period_start) as period_start,
        monthly.active_customers,
        buyers_by_month.buyers as fct_orders_buyers

    from monthly
    full outer join buyers_by_month
        on monthly.activity_month = buyers_by_month.period_start
    where
        coalesce(monthly.channel, 'all') = 'all'
        and coalesce(monthly.active_customers, 0) != coalesce(buyers_by_month.buyers, 0)

),

week_mismatches as (

    select
        'week' as period,
        coalesce(weekly.week_start, buyers_by_week.period_start) as period_start,
        weekly.active_customers,
        buyers_by_week.buyers as fct_orders_buyers

    from weekly
    full outer join buyers_by_week
        on weekly.week_start = buyers_by_week.period_start
    where
        coalesce(weekly.channel, 'all') = 'all'
        and coalesce(weekly.active_customers, 0) != coalesce(buyers_by_week.buyers, 0)

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

select * from month_mismatches
union all
select * from week_mismatches
union all
select * from identity_mismatches
