with

orders as (

    select * from {{ ref('stg_orders__orders') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_filled_daily') }}

),

dated as (

    select
        orders.*,
        {{ growthops.to_reporting_date('orders.created_at') }} as order_date,
        orders.status in ('paid', 'shipped', 'delivered', 'partially_refunded') as is_valid,
        -- net revenue is counted for valid and refunded orders (SPEC §3)
        orders.status in ('paid', 'shipped', 'delivered', 'partially_refunded', 'refunded') as is_revenue_counted,
        -- decimal(18, 4) kept explicitly: PostgreSQL's arithmetic drops the declared scale
        cast(
            orders.gross_amount_local - orders.discount_amount_local - orders.refund_amount_local
            as decimal(18, 4)
        ) as net_amount_local

    from orders

),

-- converted at the order's created_at date; an order without a rate keeps a null rate and
-- fails the fx_rate_is_available test: never dropped, never converted at rate 1
converted as (

    select
        dated.order_id,
        dated.contact_id,
        dated.created_at,
        dated.updated_at,
        dated.order_date,
        {{ growthops.month_start('dated.order_date') }} as order_month,
        dated.status,
        dated.is_valid,
        dated.is_revenue_counted,
        dated.currency,
        dated.gross_amount_local,
        dated.discount_amount_local,
        dated.refund_amount_local,
        dated.net_amount_local,
        fx_rates.to_reporting_rate as fx_rate,
        cast(
            case
                when fx_rates.to_reporting_rate is null then null
                when not dated.is_revenue_counted then 0
                else round(dated.net_amount_local * fx_rates.to_reporting_rate, 4)
            end as decimal(18, 4)
        ) as net_revenue,
        dated.source_batch_id,
        dated.source_batch_day,
        dated.source_file,
        dated.source_line,
        dated.source_loaded_at,
        fx_rates.source_loaded_at as fx_loaded_at

    from dated
    left join fx_rates
        on
            dated.currency = fx_rates.currency
            and dated.order_date = fx_rates.rate_day

)

select * from converted
