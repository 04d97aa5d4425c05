{%- set new_days = var('new_days') | int -%}
{%- set active_days = var('active_days') | int -%}
{%- set reactivation_days = var('reactivation_days') | int -%}

with

orders as (

    select * from {{ ref('int_orders_attributed') }}

),

first_orders as (

    select * from {{ ref('int_first_orders_identified') }}

),

report_periods as (

    select * from {{ ref('int_report_periods_spined') }}

),

-- one segment date per month: its last day, or the as-of date in the as-of month
segment_dates as (

    select
        report_periods.period_start as segment_month,
        report_periods.closing_date as segment_date,
        report_periods.is_complete

    from report_periods
    where report_periods.period_grain = 'month'

),

-- each valid order with the customer's valid order before and after it (by created_at, order_id)
valid_orders as (

    select
        orders.customer_id,
        orders.order_date,
        orders.valid_order_number,
        lag(orders.order_date) over (
            partition by orders.customer_id
            order by orders.valid_order_number
        ) as previous_order_date,
        lead(orders.order_date) over (
            partition by orders.customer_id
            order by orders.valid_order_number
        ) as next_order_date

    from orders
    where
        orders.is_valid
        and orders.customer_id is not null

),

-- the customer's latest valid order on or before each segment date (none before its first);
-- two plain inequalities (no `or`): one range join, not every later segment date then a filter
-- (10M orders: 160M pairs filtered to 6.2M rows)
latest_orders as (

    select
        segment_dates.segment_month,
        segment_dates.segment_date,
        segment_dates.is_complete,
        valid_orders.customer_id,
        valid_orders.order_date as latest_order_date,
        valid_orders.previous_order_date,
        valid_orders.valid_order_number as valid_orders_to_date

    from valid_orders
    inner join segment_dates
        on
            valid_orders.order_date <= segment_dates.segment_date
            and coalesce(valid_orders.next_order_date, cast('9999-12-31' as date)) > segment_dates.segment_date

),

measured as (

    select
        latest_orders.customer_id,
        first_orders.channel,
        latest_orders.segment_month,
        latest_orders.segment_date,
        latest_orders.is_complete,
        first_orders.first_order_date,
        latest_orders.latest_order_date,
        latest_orders.previous_order_date,
        cast(latest_orders.valid_orders_to_date as bigint) as valid_orders_to_date,
        cast({{ growthops.days_between('first_orders.first_order_date', 'latest_orders.segment_date') }} as integer)
            as days_since_first_order,
        cast({{ growthops.days_between('latest_orders.latest_order_date', 'latest_orders.segment_date') }} as integer)
            as days_since_latest_order,
        cast(
            {{ growthops.days_between('latest_orders.previous_order_date', 'latest_orders.latest_order_date') }}
            as integer
        ) as previous_gap_days

    from latest_orders
    inner join first_orders
        on latest_orders.customer_id = first_orders.customer_id

),

-- SPEC §11: the first rule that holds wins
classified as (

    select
        measured.*,
        case
            when measured.days_since_first_order <= {{ new_days }} then 'new'
            when
                measured.days_since_latest_order <= {{ active_days }}
                and measured.previous_gap_days > {{ reactivation_days }}
                then 'reactivated'
            when measured.days_since_latest_order <= {{ active_days }} then 'active'
            when measured.days_since_latest_order <= {{ reactivation_days }} then 'at_risk'
            else 'lapsed'
        end as segment

    from measured

),

-- a customer has a segment on every date from its first valid order on, so the row before is the
-- previous month's; `(none)` for the month of its first valid order
final as (

    select
        classified.customer_id,
        classified.channel,
        classified.segment_month,
        classified.segment_date,
        classified.is_complete,
        classified.segment,
        coalesce(
            lag(classified.segment) over (
                partition by classified.customer_id
                order by classified.segment_date
            ),
            '(none)'
        ) as previous_segment,
        classified.first_order_date,
        classified.latest_order_date,
        classified.previous_order_date,
        classified.valid_orders_to_date,
        classified.days_since_first_order,
        classified.days_since_latest_order,
        classified.previous_gap_days

    from classified

)

select * from final
