with

first_orders as (

    select * from {{ ref('int_first_orders_identified') }}

),

customer_months as (

    select * from {{ ref('int_customer_months_aggregated') }}

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates_identified') }}

),

-- periods run up to the month of the data's as-of date (the latest order date loaded)
as_of as (

    select {{ growthops.month_start('as_of_dates.as_of_date') }} as as_of_month
    from as_of_dates

),

-- each customer belongs to its first-touch channel and to `all`
cohort_members as (

    select
        first_orders.customer_id,
        first_orders.cohort_month,
        first_orders.channel

    from first_orders

    union all

    select
        first_orders.customer_id,
        first_orders.cohort_month,
        'all' as channel

    from first_orders

),

cohorts as (

    select
        cohort_members.cohort_month,
        cohort_members.channel,
        count(*) as cohort_size

    from cohort_members
    group by cohort_members.cohort_month, cohort_members.channel

),

-- one row per period from 0 to the as-of month: a period with nobody active is a 0 row,
-- a period that has not happened yet has no row
periods as (

    select
        cohorts.cohort_month,
        cohorts.channel,
        cohorts.cohort_size,
        {{ growthops.integer_series('0', growthops.months_between('cohorts.cohort_month', 'as_of.as_of_month')) }}
            as months_since_first_order

    from cohorts
    cross join as_of

),

member_activity as (

    select
        cohort_members.cohort_month,
        cohort_members.channel,
        {{ growthops.months_between('cohort_members.cohort_month', 'customer_months.activity_month') }}
            as months_since_first_order,
        customer_months.is_active,
        customer_months.net_revenue

    from cohort_members
    inner join customer_months
        on cohort_members.customer_id = customer_months.customer_id
    where customer_months.activity_month >= cohort_members.cohort_month

),

activity as (

    select
        member_activity.cohort_month,
        member_activity.channel,
        member_activity.months_since_first_order,
        sum(case when member_activity.is_active then 1 else 0 end) as active_customers,
        sum(member_activity.net_revenue) as net_revenue

    from member_activity
    group by
        member_activity.cohort_month,
        member_activity.channel,
        member_activity.months_since_first_order

),

filled as (

    select
        periods.cohort_month,
        periods.channel,
        cast(periods.months_since_first_order as integer) as months_since_first_order,
        cast(periods.cohort_size as bigint) as cohort_size,
        cast(coalesce(activity.active_customers, 0) as bigint) as active_customers,
        cast(coalesce(activity.net_revenue, 0) as decimal(18, 4)) as net_revenue

    from periods
    left join activity
        on
            periods.cohort_month = activity.cohort_month
            and periods.channel = activity.channel
            and periods.months_since_first_order = activity.months_since_first_order

),

cumulated as (

    select
        filled.*,
        sum(filled.net_revenue) over (
            partition by filled.cohort_month, filled.channel
            order by filled.months_since_first_order
            rows between unbounded preceding and current row
        ) as cumulative_net_revenue

    from filled

),

final as (

    select
        cumulated.cohort_month,
        cumulated.channel,
        cumulated.months_since_first_order,
        cumulated.cohort_size,
        cumulated.active_customers,
        {{ growthops.safe_divide('cumulated.active_customers', 'cumulated.cohort_size') }} as retention_rate,
        cumulated.net_revenue,
        cast(cumulated.cumulative_net_revenue as decimal(18, 4)) as cumulative_net_revenue,
        {{ growthops.money_divide('cumulated.cumulative_net_revenue', 'cumulated.cohort_size') }} as ltv_per_customer,
        '{{ var("reporting_currency") | upper }}' as reporting_currency

    from cumulated

)

select * from final
