-- How to roll the daily channel funnel up to months without averaging ratios: sum the numbers,
-- then divide (a ratio of sums). Compile with `dbt compile -s channel_month_efficiency`.
{%- set additive_measures = ['spend', 'impressions', 'clicks', 'signups', 'new_customers', 'attributed_revenue'] %}

with

funnel as (

    select * from {{ ref('mart_channel_funnel_daily') }}

),

monthly as (

    select
        {{ growthops.month_start('funnel.report_date') }} as report_month,
        funnel.channel,
        {{ growthops.sum_columns('funnel', additive_measures) }}

    from funnel
    group by 1, 2

),

final as (

    select
        monthly.*,
        {{ growthops.safe_divide('monthly.clicks', 'monthly.impressions') }} as ctr,
        {{ growthops.money_divide('monthly.spend', 'monthly.new_customers') }} as cac,
        {{ growthops.safe_divide('monthly.attributed_revenue', 'monthly.spend') }} as roas

    from monthly

)

select * from final
