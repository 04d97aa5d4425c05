{%- set zero_cost_channels = "'" ~ (var('zero_cost_channels') | join("', '")) ~ "'" -%}
{#- the additive measures of a day x channel x campaign, in column order, with their contract types:
    each side of the union below carries some of them (0 for the others), the totals sum them all -#}
{%- set funnel_measures = {
    'ad_spend': 'decimal(18, 4)',
    'acquisition_cost': 'decimal(18, 4)',
    'impressions': 'bigint',
    'clicks': 'bigint',
    'signups': 'bigint',
    'new_customers': 'bigint',
    'first_order_revenue': 'decimal(18, 4)',
    'attributed_revenue': 'decimal(18, 4)',
} -%}
{#- the other sides of the union by CTE name, each one row per day x channel x campaign of a relation's
    rows (platform and campaign_id come from the spend side only):
    - cost_side: acquisition-purpose costs add to the spend of their channel and campaign that day;
      retention-purpose costs never enter spend or CAC
    - signup_side, new_customer_side: signups, and first orders with their revenue
    - revenue_side: net revenue of the day's orders (valid and refunded), guests under `unattributed` -#}
{%- set outcome_sides = {
    'cost_side': {'relation': 'costs', 'date': 'cost_date', 'campaign': 'campaign_key',
        'where': 'costs.is_acquisition', 'measures': {'acquisition_cost': 'sum(costs.amount)'}},
    'signup_side': {'relation': 'contacts', 'date': 'signup_date', 'campaign': 'campaign',
        'measures': {'signups': 'count(*)'}},
    'new_customer_side': {'relation': 'first_orders', 'date': 'first_order_date', 'campaign': 'campaign',
        'measures': {
            'new_customers': 'count(*)',
            'first_order_revenue': 'sum(first_orders.first_order_net_revenue)',
        }},
    'revenue_side': {'relation': 'orders', 'date': 'order_date', 'campaign': 'campaign',
        'where': 'orders.is_revenue_counted', 'measures': {'attributed_revenue': 'sum(orders.net_revenue)'}},
} -%}

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
        {{ growthops.measures_or_zero(funnel_measures, {
            'ad_spend': 'sum(campaign_days.spend)',
            'impressions': 'sum(campaign_days.impressions)',
            'clicks': 'sum(campaign_days.clicks)',
        }) }}

    from campaign_days
    group by campaign_days.report_date, campaign_days.channel, campaign_days.campaign_key

),

{% for side_name, side in outcome_sides.items() %}
    {{ side_name }} as (

        select
            {{ side.relation }}.{{ side.date }} as report_date,
            {{ side.relation }}.channel,
            {{ side.relation }}.{{ side.campaign }}{{ ' as campaign' if side.campaign != 'campaign' }},
            null as platform,
            null as campaign_id,
            {{ growthops.measures_or_zero(funnel_measures, side.measures) }}

        from {{ side.relation }}
        {%- if side.where %}
            where {{ side.where }}
        {%- endif %}
        group by
            {{ side.relation }}.{{ side.date }}, {{ side.relation }}.channel, {{ side.relation }}.{{ side.campaign }}

    ),
{% endfor %}
-- full outer join of spend and outcomes on (report_date, channel, campaign):
-- organic rows get 0 spend, paid rows without outcomes get 0 signups
unioned as (

    select * from spend_side
    {% for side_name in outcome_sides %}
        union all
        select * from {{ side_name }}
    {% endfor %}

),

totals as (

    select
        unioned.report_date,
        unioned.channel,
        unioned.campaign,
        cast(max(unioned.platform) as varchar) as platform,
        cast(max(unioned.campaign_id) as varchar) as campaign_id,
        {{ growthops.sum_columns('unioned', funnel_measures) }}

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
