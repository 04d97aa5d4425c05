with

orders as (

    select * from {{ ref('int_orders_attributed') }}

),

report_periods as (

    select * from {{ ref('int_report_periods_spined') }}

),

-- customer-weeks with >= 1 valid order, in the customer's first-touch channel (every order of a
-- customer carries it); new = the week holds the customer's first valid order
active_weeks as (

    select
        orders.customer_id,
        orders.channel,
        {{ growthops.week_start('orders.order_date') }} as week_start,
        bool_or(orders.is_first_order) as is_new

    from orders
    where
        orders.is_valid
        and orders.customer_id is not null
    group by orders.customer_id, orders.channel, {{ growthops.week_start('orders.order_date') }}

),

-- per channel first; `all` is then the sum over the channels: a customer-week row counts once in
-- its channel and once in `all`, so `all` adds up the channels' counts (one pass over the
-- customer-weeks, not a second one over a copy of them)
channel_totals as (

    select
        active_weeks.channel,
        active_weeks.week_start,
        count(*) as active_customers,
        sum(case when active_weeks.is_new then 1 else 0 end) as new_customers

    from active_weeks
    group by active_weeks.channel, active_weeks.week_start

),

totals as (

    select * from channel_totals

    union all

    select
        'all' as channel,
        channel_totals.week_start,
        sum(channel_totals.active_customers) as active_customers,
        sum(channel_totals.new_customers) as new_customers

    from channel_totals
    group by channel_totals.week_start

),

channels as (

    select distinct totals.channel
    from totals

),

-- every ISO week x channel; the weeks (keyed by their Monday) run from the first week loaded to the
-- week of the as-of date
final as (

    select
        report_periods.period_start as week_start,
        channels.channel,
        report_periods.is_complete,
        cast(coalesce(totals.active_customers, 0) as bigint) as active_customers,
        cast(coalesce(totals.new_customers, 0) as bigint) as new_customers,
        cast(coalesce(totals.active_customers, 0) - coalesce(totals.new_customers, 0) as bigint)
            as returning_customers

    from report_periods
    cross join channels
    left join totals
        on
            report_periods.period_start = totals.week_start
            and channels.channel = totals.channel
    where report_periods.period_grain = 'week'

)

select * from final
