with

orders as (

    select * from {{ ref('stg_orders__orders') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_filled_daily') }}

),

{% if is_incremental() %}
    -- incremental: the orders whose latest version was loaded after the newest load already in
    -- the table minus the lookback, and the orders of the days whose fx rate was (a late or
    -- re-delivered rate); everything when the reporting currency or timezone changed
    rebuild_window as (

        select {{ growthops.rebuild_loaded_after('inputs_loaded_at') }} as rebuild_loaded_after

    ),

    rerated_orders as (

        {{ growthops.rerated_rows('order_id', 'order_date') }}

        union all

        -- and the orders whose stored version's batch left staging (DECISIONLOG 76)
        {{ growthops.rebatched_rows(ref('stg_orders__orders')) }}

    ),
{% endif %}

changed_orders as (

    {{ growthops.select_changed_orders(
        'source_loaded_at', 'order_id', 'select rerated_orders.order_id from rerated_orders'
    ) }}

),

dated as (

    select
        changed_orders.*,
        {{ growthops.to_reporting_date('changed_orders.created_at') }} as order_date,
        changed_orders.status in ('paid', 'shipped', 'delivered', 'partially_refunded') as is_valid,
        -- net revenue is counted for valid and refunded orders (SPEC §3)
        changed_orders.status in (
            'paid', 'shipped', 'delivered', 'partially_refunded', 'refunded'
        ) as is_revenue_counted,
        -- decimal(18, 4) kept explicitly: PostgreSQL's arithmetic drops the declared scale
        cast(
            changed_orders.gross_amount_local
            - changed_orders.discount_amount_local
            - changed_orders.refund_amount_local
            as decimal(18, 4)
        ) as net_amount_local

    from changed_orders

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
                else {{ growthops.convert_money('dated.net_amount_local', 'fx_rates.to_reporting_rate') }}
            end as decimal(18, 4)
        ) as net_revenue,
        dated.source_batch_id,
        dated.source_batch_day,
        dated.source_file,
        dated.source_line,
        dated.source_loaded_at,
        fx_rates.source_loaded_at as fx_loaded_at,
        -- newest load among the order version and its fx rates (incremental watermark)
        greatest(dated.source_loaded_at, fx_rates.source_loaded_at) as inputs_loaded_at,
        '{{ var("reporting_currency") | upper }}' as reporting_currency,
        '{{ var("reporting_timezone") }}' as reporting_timezone

    from dated
    left join fx_rates
        on
            dated.currency = fx_rates.currency
            and dated.order_date = fx_rates.rate_day

)

select * from converted
