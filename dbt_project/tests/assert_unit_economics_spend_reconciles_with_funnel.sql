-- mart_acquisition_unit_economics: spend = the known spend of mart_channel_funnel_daily per
-- month x channel (both null when unknown all month) and new customers = the funnel's. (`all` =
-- the sum of the channels: the all_row_adds_up test of the model.) Returns the month x channel
-- rows that differ.
with

economics as (

    select * from {{ ref('mart_acquisition_unit_economics') }}

),

funnel as (

    select * from {{ ref('mart_channel_funnel_daily') }}

),

economics_channels as (

    select economics.*
    from economics
    where economics.channel != 'all'

),

funnel_months as (

    select
        {{ growthops.month_start('funnel.report_date') }} as acquisition_month,
        funnel.channel,
        sum(funnel.spend) as spend,
        sum(funnel.new_customers) as new_customers

    from funnel
    group by {{ growthops.month_start('funnel.report_date') }}, funnel.channel

),

mismatches as (

    select
        coalesce(economics_channels.acquisition_month, funnel_months.acquisition_month) as acquisition_month,
        coalesce(economics_channels.channel, funnel_months.channel) as channel,
        economics_channels.spend as economics_spend,
        funnel_months.spend as funnel_spend,
        economics_channels.new_customers as economics_new_customers,
        funnel_months.new_customers as funnel_new_customers

    from economics_channels
    full outer join funnel_months
        on
            economics_channels.acquisition_month = funnel_months.acquisition_month
            and economics_channels.channel = funnel_months.channel
    where
        economics_channels.channel is null
        or funnel_months.channel is null
        or (economics_channels.spend is null) != (funnel_months.spend is null)
        or abs(economics_channels.spend - funnel_months.spend) > 0.0001
        or economics_channels.new_customers != funnel_months.new_customers

)

select * from mismatches
