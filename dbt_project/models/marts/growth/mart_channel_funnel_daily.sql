{%- set zero_cost_channels = "'" ~ (var('zero_cost_channels') | join("', '")) ~ "'" -%}

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

costs as (

    select * from {{ ref('int_costs_converted') }}

),

-- a channel's spend is known from its first ad-platform row or acquisition cost row on (SPEC §11)
spend_known_from as (

    select
        known.channel,
        min(known.first_date) as first_date

    from (
        select
            campaign_days.channel,
            min(campaign_days.report_date) as first_date
        from campaign_days
        group by campaign_days.channel

        union all

        select
            costs.channel,
            min(costs.cost_date) as first_date
        from costs
        where costs.is_acquisition
        group by costs.channel
    ) as known
    group by known.channel

),

spend_side as (

    select
        campaign_days.report_date,
        campaign_days.channel,
        campaign_days.campaign_key as campaign,
        string_agg(distinct campaign_days.platform, ', ' order by campaign_days.platform) as platform,
        string_agg(distinct campaign_days.campaign_id, ', ' order by campaign_days.campaign_id) as campaign_id,
        sum(campaign_days.spend) as ad_spend,
        0 as acquisition_cost,
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
        null as platform,
        null as campaign_id,
        0 as ad_spend,
        0 as acquisition_cost,
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
        null as platform,
        null as campaign_id,
        0 as ad_spend,
        0 as acquisition_cost,
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
        null as platform,
        null as campaign_id,
        0 as ad_spend,
        0 as acquisition_cost,
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

-- acquisition-purpose costs add to the spend of their channel and campaign that day;
-- retention-purpose costs never enter spend or CAC
cost_side as (

    select
        costs.cost_date as report_date,
        costs.channel,
        costs.campaign_key as campaign,
        null as platform,
        null as campaign_id,
        0 as ad_spend,
        sum(costs.amount) as acquisition_cost,
        0 as impressions,
        0 as clicks,
        0 as signups,
        0 as new_customers,
        0 as first_order_revenue,
        0 as attributed_revenue

    from costs
    where costs.is_acquisition
    group by costs.cost_date, costs.channel, costs.campaign_key

),

-- full outer join of spend and outcomes on (report_date, channel, campaign):
-- organic rows get 0 spend, paid rows without outcomes get 0 signups
unioned as (

    select * from spend_side
    union all
    select * from cost_side
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
        cast(max(unioned.platform) as varchar) as platform,
        cast(max(unioned.campaign_id) as varchar) as campaign_id,
        cast(sum(unioned.ad_spend) as decimal(18, 4)) as ad_spend,
        cast(sum(unioned.acquisition_cost) as decimal(18, 4)) as acquisition_cost,
        cast(sum(unioned.impressions) as bigint) as impressions,
        cast(sum(unioned.clicks) as bigint) as clicks,
        cast(sum(unioned.signups) as bigint) as signups,
        cast(sum(unioned.new_customers) as bigint) as new_customers,
        cast(sum(unioned.first_order_revenue) as decimal(18, 4)) as first_order_revenue,
        cast(sum(unioned.attributed_revenue) as decimal(18, 4)) as attributed_revenue

    from unioned
    group by unioned.report_date, unioned.channel, unioned.campaign

),

-- zero-cost channels cost 0; any other channel's spend is unknown (null) before it is known
spend_resolved as (

    select
        totals.*,
        cast(
            case
                when totals.channel in ({{ zero_cost_channels }}) then totals.ad_spend + totals.acquisition_cost
                when spend_known_from.first_date <= totals.report_date
                    then totals.ad_spend + totals.acquisition_cost
            end as decimal(18, 4)
        ) as spend

    from totals
    left join spend_known_from
        on totals.channel = spend_known_from.channel

),

final as (

    select
        spend_resolved.report_date,
        spend_resolved.channel,
        spend_resolved.campaign,
        spend_resolved.platform,
        spend_resolved.campaign_id,
        spend_resolved.spend,
        spend_resolved.ad_spend,
        spend_resolved.acquisition_cost,
        spend_resolved.impressions,
        spend_resolved.clicks,
        spend_resolved.signups,
        spend_resolved.new_customers,
        spend_resolved.first_order_revenue,
        spend_resolved.attributed_revenue,
        {{ growthops.safe_divide('spend_resolved.clicks', 'spend_resolved.impressions') }} as ctr,
        {{ growthops.money_divide('spend_resolved.spend', 'spend_resolved.clicks') }} as cpc,
        {{ growthops.money_divide('spend_resolved.spend', 'spend_resolved.signups') }} as cpl,
        {{ growthops.money_divide('spend_resolved.spend', 'spend_resolved.new_customers') }} as cac,
        {{ growthops.safe_divide('spend_resolved.attributed_revenue', 'spend_resolved.spend') }} as roas,
        '{{ var("reporting_currency") | upper }}' as reporting_currency

    from spend_resolved

)

select * from final
