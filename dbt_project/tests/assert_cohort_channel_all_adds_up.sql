-- mart_cohort_retention: the `all` row of every cohort month and period is the sum of its
-- channels (cohort size, active customers, net revenue). Returns the rows that do not add up.
with

cohorts as (

    select * from {{ ref('mart_cohort_retention') }}

),

by_channel as (

    select
        cohorts.cohort_month,
        cohorts.months_since_first_order,
        sum(cohorts.cohort_size) as cohort_size,
        sum(cohorts.active_customers) as active_customers,
        sum(cohorts.net_revenue) as net_revenue

    from cohorts
    where cohorts.channel != 'all'
    group by cohorts.cohort_month, cohorts.months_since_first_order

),

all_channels as (

    select cohorts.*
    from cohorts
    where cohorts.channel = 'all'

),

mismatches as (

    select
        all_channels.cohort_month,
        all_channels.months_since_first_order,
        all_channels.cohort_size,
        by_channel.cohort_size as sum_of_channels_cohort_size,
        all_channels.active_customers,
        by_channel.active_customers as sum_of_channels_active_customers,
        all_channels.net_revenue,
        by_channel.net_revenue as sum_of_channels_net_revenue

    from all_channels
    full outer join by_channel
        on
            all_channels.cohort_month = by_channel.cohort_month
            and all_channels.months_since_first_order = by_channel.months_since_first_order
    where
        all_channels.cohort_month is null
        or by_channel.cohort_month is null
        or all_channels.cohort_size != by_channel.cohort_size
        or all_channels.active_customers != by_channel.active_customers
        or all_channels.net_revenue != by_channel.net_revenue

)

select * from mismatches
