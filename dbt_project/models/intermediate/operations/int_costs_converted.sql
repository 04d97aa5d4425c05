with

costs as (

    select * from {{ ref('stg_costs__costs') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_filled_daily') }}

),

-- converted at the cost date like ad spend; a currency without a rate keeps a null rate and
-- fails the fx_rate_is_available test: never dropped, never converted at rate 1
converted as (

    select
        costs.cost_date,
        costs.channel,
        costs.campaign_key,
        costs.cost_type,
        costs.purpose,
        costs.purpose = 'acquisition' as is_acquisition,
        costs.amount_local,
        costs.currency,
        fx_rates.to_reporting_rate as fx_rate,
        {{ growthops.convert_money('costs.amount_local', 'fx_rates.to_reporting_rate') }} as amount,
        costs.source_batch_id,
        costs.source_loaded_at

    from costs
    left join fx_rates
        on
            costs.currency = fx_rates.currency
            and costs.cost_date = fx_rates.rate_day

)

select * from converted
