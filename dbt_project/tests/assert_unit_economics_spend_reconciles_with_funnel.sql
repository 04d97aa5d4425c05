-- mart_acquisition_unit_economics: spend = the known spend of mart_channel_funnel_daily per
-- month x channel (both null when unknown all month), `all` = the sum of the channels' known
-- spend, and new customers = the funnel's. Returns the month x channel rows that differ.
with

economics as (

    select * from {{ ref('mart_acquisition_unit_economics') }}

),

funnel as (

    select * from {{ ref('mart_channel_funnel_daily') }}

),

funnel_months as (

    select
        {{ growthops.month_start('funnel.report_date') }} as acquisition_month,
        funnel.channel,
        sum(funnel.spend) as spend,
        sum(funnel.new_customers) as new_customers

    from funnel
    group by {{ growthops.month_start('funnel.report_date') }}, funnel.channel

    union all

    select
        {{ growthops.month_start('funnel.report_date') }} as acquisition_month,
        'all' as channel,
        sum(funnel.spend) as spend,
        sum(funnel.new_customers) as new_customers

    from funnel
    group by {{ growthops.month_start('funnel.report_date') }}

),

mismatches as (

    select
        coalesce(economics.acquisition_month, funnel_months.acquisition_month) as acquisition_month,
        coalesce(economics.channel, funnel_months.channel) as channel,
        economics.spend as economics_spend,
        funnel_months.spend as funnel_spend,
        economics.new_customers as economics_new_customers,
        funnel_months.new_customers as funnel_new_customers

    from economics
    full outer join funnel_months
        on
            economics.acquisition_month = funnel_months.acquisition_month
            and economics.channel = funnel_months.channel
    where
        economics.channel is null
        or funnel_months.channel is null
        or (economics.spend is null) != (funnel_months.spend is null)
        or abs(economics.spend - funnel_months.spend) > 0.0001
        or economics.new_customers != funnel_months.new_customers

)

select * from mismatches
