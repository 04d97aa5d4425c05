{#- growth accounting measures of a channel-month, each a sum over its customers' events -#}
{%- set customer_counts = [
    'active_customers', 'new_customers', 'retained_customers', 'resurrected_customers', 'churned_customers',
] -%}
{%- set net_revenues = [
    'net_revenue', 'new_net_revenue', 'retained_net_revenue', 'resurrected_net_revenue', 'churned_net_revenue',
] -%}

with

first_orders as (

    select * from {{ ref('int_first_orders_identified') }}

),

customer_months as (

    select * from {{ ref('int_customer_months_aggregated') }}

),

report_periods as (

    select * from {{ ref('int_report_periods_spined') }}

),

-- customer-months with >= 1 valid order, with the customer's previous and next active month
active_sequence as (

    select
        customer_months.customer_id,
        first_orders.channel,
        customer_months.activity_month,
        customer_months.activity_month = first_orders.cohort_month as is_new,
        customer_months.net_revenue,
        lag(customer_months.activity_month) over (
            partition by customer_months.customer_id
            order by customer_months.activity_month
        ) as previous_month,
        lead(customer_months.activity_month) over (
            partition by customer_months.customer_id
            order by customer_months.activity_month
        ) as next_month

    from customer_months
    inner join first_orders
        on customer_months.customer_id = first_orders.customer_id
    where customer_months.is_active

),

active_months as (

    select
        active_sequence.*,
        coalesce(
            {{ growthops.months_between('active_sequence.previous_month', 'active_sequence.activity_month') }} = 1,
            false
        ) as was_active_before,
        coalesce(
            {{ growthops.months_between('active_sequence.activity_month', 'active_sequence.next_month') }} = 1,
            false
        ) as is_active_after

    from active_sequence

),

-- growth accounting (SPEC §11): new (first valid order in m), retained (active in m - 1 too),
-- resurrected (neither); churned in m = active in m - 1 and not in m (with its m - 1 revenue)
classified as (

    select
        active_months.channel,
        active_months.activity_month,
        1 as active_customers,
        case when active_months.is_new then 1 else 0 end as new_customers,
        case when not active_months.is_new and active_months.was_active_before then 1 else 0 end
            as retained_customers,
        case when not active_months.is_new and not active_months.was_active_before then 1 else 0 end
            as resurrected_customers,
        0 as churned_customers,
        active_months.net_revenue,
        case when active_months.is_new then active_months.net_revenue else 0 end as new_net_revenue,
        case
            when not active_months.is_new and active_months.was_active_before then active_months.net_revenue
            else 0
        end as retained_net_revenue,
        case
            when not active_months.is_new and not active_months.was_active_before then active_months.net_revenue
            else 0
        end as resurrected_net_revenue,
        0 as churned_net_revenue

    from active_months

),

churned as (

    select
        active_months.channel,
        {{ growthops.add_months('active_months.activity_month', '1') }} as activity_month,
        0 as active_customers,
        0 as new_customers,
        0 as retained_customers,
        0 as resurrected_customers,
        1 as churned_customers,
        0 as net_revenue,
        0 as new_net_revenue,
        0 as retained_net_revenue,
        0 as resurrected_net_revenue,
        active_months.net_revenue as churned_net_revenue

    from active_months
    where not active_months.is_active_after

),

events as (

    select * from classified
    union all
    select * from churned

),

-- per channel first; `all` is then the sum over the channels: an event counts once in its
-- customer's first-touch channel and once in `all`, so `all` adds up the channels' sums (exact:
-- counts and decimals; one pass over the events, not a second one over a copy of them)
channel_totals as (

    select
        events.channel,
        events.activity_month,
        {{ growthops.sum_columns('events', customer_counts + net_revenues) }}

    from events
    group by events.channel, events.activity_month

),

totals as (

    select * from channel_totals

    union all

    select
        'all' as channel,
        channel_totals.activity_month,
        {{ growthops.sum_columns('channel_totals', customer_counts + net_revenues) }}

    from channel_totals
    group by channel_totals.activity_month

),

channels as (

    select distinct totals.channel
    from totals

),

-- every month x channel, 0 when nobody was active (a churn after the as-of month has no row); the
-- months run from the first month loaded to the month of the as-of date (latest order date loaded)
filled as (

    select
        report_periods.period_start as activity_month,
        channels.channel,
        report_periods.is_first_period as is_first_month,
        report_periods.is_complete,
        {{ growthops.cast_columns('totals', customer_counts, 'bigint', coalesce_to=0) }},
        {{ growthops.cast_columns('totals', net_revenues, 'decimal(18, 4)', coalesce_to=0) }},
        lag(cast(coalesce(totals.active_customers, 0) as bigint)) over (
            partition by channels.channel
            order by report_periods.period_start
        ) as previous_active_customers

    from report_periods
    cross join channels
    left join totals
        on
            report_periods.period_start = totals.activity_month
            and channels.channel = totals.channel
    where report_periods.period_grain = 'month'

),

-- unknown, not 0 (SPEC §11): retained, resurrected, churned and the ratios in the first month
-- loaded (m - 1 is not in the data); churned and quick ratio while m is incomplete
final as (

    select
        filled.activity_month,
        filled.channel,
        filled.is_complete,
        filled.active_customers,
        filled.new_customers,
        case when not filled.is_first_month then filled.retained_customers end as retained_customers,
        case when not filled.is_first_month then filled.resurrected_customers end as resurrected_customers,
        case when filled.is_complete and not filled.is_first_month then filled.churned_customers end
            as churned_customers,
        case
            when filled.is_complete and not filled.is_first_month
                then {{ growthops.safe_divide(
                    'filled.new_customers + filled.resurrected_customers', 'filled.churned_customers'
                ) }}
        end as quick_ratio,
        case
            when not filled.is_first_month
                then {{ growthops.safe_divide('filled.retained_customers', 'filled.previous_active_customers') }}
        end as retention_rate,
        filled.net_revenue,
        filled.new_net_revenue,
        -- the casts keep decimal(18, 4) on PostgreSQL, where `case` drops the declared scale
        cast(case when not filled.is_first_month then filled.retained_net_revenue end as decimal(18, 4))
            as retained_net_revenue,
        cast(case when not filled.is_first_month then filled.resurrected_net_revenue end as decimal(18, 4))
            as resurrected_net_revenue,
        cast(
            case when filled.is_complete and not filled.is_first_month then filled.churned_net_revenue end
            as decimal(18, 4)
        ) as churned_net_revenue,
        {{ growthops.money_divide('filled.net_revenue', 'filled.active_customers') }} as revenue_per_active,
        '{{ var("reporting_currency") | upper }}' as reporting_currency

    from filled

)

select * from final
