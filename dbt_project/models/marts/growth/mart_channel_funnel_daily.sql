with

campaign_days as (

    select * from {{ ref('int_ad_campaign_days_conformed') }}

),

contacts as (

    select * from {{ ref('int_contacts_attributed') }}

),

first_orders as (

    select * from {{ ref('int_first_orders_identified') }}

),

orders as (

    select * from {{ ref('int_orders_attributed') }}

),

spend_side as (

    select
        campaign_days.report_date,
        campaign_days.channel,
        campaign_days.campaign_key as campaign,
        sum(campaign_days.spend) as spend,
        sum(campaign_days.impressions) as impressions,
        sum(campaign_days.clicks) as clicks,
        0 as signups,
        0 as new_customers,
        0 as first_order_revenue,
        0 as attributed_revenue

    from campaign_days
    group by campaign_days.report_date, campaign_days.channel, campaign_days.campaign_key

),

signup_side as (

    select
        contacts.signup_date as report_date,
        contacts.channel,
        contacts.campaign,
        0 as spend,
        0 as impressions,
        0 as clicks,
        count(*) as signups,
        0 as new_customers,
        0 as first_order_revenue,
        0 as attributed_revenue

    from contacts
    group by contacts.signup_date, contacts.channel, contacts.campaign

),

new_customer_side as (

    select
        first_orders.first_order_date as report_date,
        first_orders.channel,
        first_orders.campaign,
        0 as spend,
        0 as impressions,
        0 as clicks,
        0 as signups,
        count(*) as new_customers,
        sum(first_orders.first_order_net_revenue) as first_order_revenue,
        0 as attributed_revenue

    from first_orders
    group by first_orders.first_order_date, first_orders.channel, first_orders.campaign

),

-- net revenue of the day's orders (valid and refunded), guests under `unattributed`
revenue_side as (

    select
        orders.order_date as report_date,
        orders.channel,
        orders.campaign,
        0 as spend,
        0 as impressions,
        0 as clicks,
        0 as signups,
        0 as new_customers,
        0 as first_order_revenue,
        sum(orders.net_revenue) as attributed_revenue

    from orders
    where orders.is_revenue_counted
    group by orders.order_date, orders.channel, orders.campaign

),

-- full outer join of spend and outcomes on (report_date, channel, campaign):
-- organic rows get 0 spend, paid rows without outcomes get 0 signups
unioned as (

    select * from spend_side
    union all
    select * from signup_side
    union all
    select * from new_customer_side
    union all
    select * from revenue_side

),

totals as (

    select
        unioned.report_date,
        unioned.channel,
        unioned.campaign,
        cast(sum(unioned.spend) as decimal(18, 4)) as spend,
        cast(sum(unioned.impressions) as bigint) as impressions,
        cast(sum(unioned.clicks) as bigint) as clicks,
        cast(sum(unioned.signups) as bigint) as signups,
        cast(sum(unioned.new_customers) as bigint) as new_customers,
        cast(sum(unioned.first_order_revenue) as decimal(18, 4)) as first_order_revenue,
        cast(sum(unioned.attributed_revenue) as decimal(18, 4)) as attributed_revenue

    from unioned
    group by unioned.report_date, unioned.channel, unioned.campaign

),

final as (

    select
        totals.report_date,
        totals.channel,
        totals.campaign,
        totals.spend,
        totals.impressions,
        totals.clicks,
        totals.signups,
        totals.new_customers,
        totals.first_order_revenue,
        totals.attributed_revenue,
        {{ growthops.safe_divide('totals.clicks', 'totals.impressions') }} as ctr,
        {{ growthops.money_divide('totals.spend', 'totals.clicks') }} as cpc,
        {{ growthops.money_divide('totals.spend', 'totals.signups') }} as cpl,
        {{ growthops.money_divide('totals.spend', 'totals.new_customers') }} as cac,
        {{ growthops.safe_divide('totals.attributed_revenue', 'totals.spend') }} as roas,
        '{{ var("reporting_currency") | upper }}' as reporting_currency

    from totals

)

select * from final
