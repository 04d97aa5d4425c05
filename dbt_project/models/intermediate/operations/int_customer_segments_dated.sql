{%- set new_days = var('new_days') | int -%}
{%- set active_days = var('active_days') | int -%}
{%- set reactivation_days = var('reactivation_days') | int -%}
{#- a table built before the fingerprints (no orders_fingerprint) is read as no previous build
    (macros/stored_table.sql) -#}
{%- set incremental = growthops.stored_table_has(['orders_fingerprint']) -%}

with

-- read where used (three readers of 9.6M orders at 10M: a materialized copy made the window spill)
orders as not materialized (

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

-- each customer's inputs as one number (macros/customer_segments_incremental.sql)
fingerprints as (

    {{ growthops.segment_fingerprints('orders', 'first_orders') }}

),

{% if incremental %}
previous_build as not materialized (

    select * from {{ this }}

),

stored_customers as (

    select distinct
        previous_build.customer_id,
        previous_build.orders_fingerprint

    from previous_build

),

stored_dates as (

    select distinct
        previous_build.segment_month,
        previous_build.segment_date,
        previous_build.is_complete

    from previous_build

),

{% endif -%}
-- rebuilt for every customer: the months from the first one whose segment date is not stored
-- (the as-of month once the as-of date moved; a month loaded for the first time) on; none when
-- every month's date is stored (9999-12-31). A full build rebuilds every customer whole instead.
rebuild_window as (

    select
        coalesce(min(segment_dates.segment_month), cast('9999-12-31' as date)) as rebuild_from_month,
        {%- if incremental %}
            (select max(stored_dates.segment_month) from stored_dates) as stored_last_month
        {%- else %}
            cast(null as date) as stored_last_month
        {%- endif %}

    from segment_dates
    {%- if incremental %}
        left join stored_dates
            on
                segment_dates.segment_month = stored_dates.segment_month
                and segment_dates.segment_date = stored_dates.segment_date
                and segment_dates.is_complete = stored_dates.is_complete
        where stored_dates.segment_month is null
    {%- endif %}

),

-- rebuilt whole, from their orders: every customer on a full build; incrementally the customers
-- whose fingerprint is not stored (new ones included), or every customer when the window reaches
-- back before the stored last month (not a day's move: the first month loaded moved, or older
-- months' dates changed)
rebuilt_customers as (

    select fingerprints.customer_id

    from fingerprints
    {%- if incremental %}
        cross join rebuild_window
        left join stored_customers
            on
                fingerprints.customer_id = stored_customers.customer_id
                and fingerprints.orders_fingerprint = stored_customers.orders_fingerprint
        where
            stored_customers.customer_id is null
            or rebuild_window.rebuild_from_month < rebuild_window.stored_last_month
    {%- endif %}

),

-- each customer's first rebuilt segment date: any for a customer rebuilt whole, else the
-- rebuild window's
customer_scope as (

    select
        fingerprints.customer_id,
        fingerprints.orders_fingerprint,
        case
            when rebuilt_customers.customer_id is not null then cast('1900-01-01' as date)
            else rebuild_window.rebuild_from_month
        end as rebuild_from_date

    from fingerprints
    cross join rebuild_window
    left join rebuilt_customers
        on fingerprints.customer_id = rebuilt_customers.customer_id

),

-- each valid order of the customers rebuilt whole with their valid order before and after it (by
-- created_at, order_id)
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
        and orders.customer_id in (select rebuilt_customers.customer_id from rebuilt_customers)

),

-- the other customers' orders did not change, and the window starts at or after the stored last
-- month, whose date was at or after each of their orders: their latest valid order is the one
-- stored in that month, on every rebuilt date (carried forward, not recomputed from the orders)
carried_orders as (

    {%- if incremental %}
        select
            previous_build.customer_id,
            previous_build.latest_order_date as order_date,
            previous_build.valid_orders_to_date as valid_order_number,
            previous_build.previous_order_date,
            cast(null as date) as next_order_date

        from previous_build
        cross join rebuild_window
        where
            previous_build.segment_month = rebuild_window.stored_last_month
            and previous_build.customer_id not in (select rebuilt_customers.customer_id from rebuilt_customers)
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as customer_id,
            cast(null as date) as order_date,
            cast(null as bigint) as valid_order_number,
            cast(null as date) as previous_order_date,
            cast(null as date) as next_order_date

        where false
    {%- endif %}

),

-- the orders that are a customer's latest on one of its rebuilt dates: the order covers the days
-- from its own date (or the customer's first rebuilt date, the later) to the next order's
covering_orders as (

    select
        customer_orders.*,
        customer_scope.orders_fingerprint,
        greatest(customer_orders.order_date, customer_scope.rebuild_from_date) as covers_from,
        coalesce(customer_orders.next_order_date, cast('9999-12-31' as date)) as covers_until

    from (
        select * from valid_orders
        union all
        select * from carried_orders
    ) as customer_orders
    inner join customer_scope
        on customer_orders.customer_id = customer_scope.customer_id
    where coalesce(customer_orders.next_order_date, cast('9999-12-31' as date)) > customer_scope.rebuild_from_date

),

-- the customer's latest valid order on or before each rebuilt segment date (none before its
-- first); two plain inequalities (no `or`): one range join, not every later segment date then a
-- filter (10M orders: 160M pairs filtered to 6.2M rows)
latest_orders as (

    select
        segment_dates.segment_month,
        segment_dates.segment_date,
        segment_dates.is_complete,
        covering_orders.customer_id,
        covering_orders.orders_fingerprint,
        covering_orders.order_date as latest_order_date,
        covering_orders.previous_order_date,
        covering_orders.valid_order_number as valid_orders_to_date

    from covering_orders
    inner join segment_dates
        on
            covering_orders.covers_from <= segment_dates.segment_date
            and covering_orders.covers_until > segment_dates.segment_date

),

-- net revenue (valid and refunded orders) of each customer in the 90 days d - 89 ... d of each
-- rebuilt date: only the orders that can fall in one
revenue_orders as (

    select
        orders.customer_id,
        orders.order_date,
        orders.net_revenue

    from orders
    inner join customer_scope
        on orders.customer_id = customer_scope.customer_id
    where
        orders.is_revenue_counted
        and orders.order_date >= {{ growthops.add_days('customer_scope.rebuild_from_date', '-89') }}

),

revenue_last_90d as (

    select
        latest_orders.customer_id,
        latest_orders.segment_date,
        sum(revenue_orders.net_revenue) as net_revenue

    from latest_orders
    inner join revenue_orders
        on
            latest_orders.customer_id = revenue_orders.customer_id
            and latest_orders.segment_date >= revenue_orders.order_date
            and {{ growthops.add_days('latest_orders.segment_date', '-89') }} <= revenue_orders.order_date
    group by latest_orders.customer_id, latest_orders.segment_date

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
        ) as previous_gap_days,
        cast(coalesce(revenue_last_90d.net_revenue, 0) as decimal(18, 4)) as net_revenue_last_90d,
        latest_orders.orders_fingerprint

    from latest_orders
    inner join first_orders
        on latest_orders.customer_id = first_orders.customer_id
    left join revenue_last_90d
        on
            latest_orders.customer_id = revenue_last_90d.customer_id
            and latest_orders.segment_date = revenue_last_90d.segment_date

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

-- the stored segment of the month before the rebuild window, of the customers not rebuilt whole:
-- the previous segment of their first rebuilt row
stored_previous_months as (

    {%- if incremental %}
        select
            previous_build.customer_id,
            previous_build.segment

        from previous_build
        cross join rebuild_window
        where
            previous_build.segment_month = {{ growthops.add_months('rebuild_window.rebuild_from_month', '-1') }}
            and previous_build.customer_id not in (select rebuilt_customers.customer_id from rebuilt_customers)
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as customer_id,
            cast(null as {{ dbt.type_string() }}) as segment

        where false
    {%- endif %}

),

-- a customer has a segment on every date from its first valid order on, so the row before is the
-- previous month's (rebuilt, or stored before the rebuild window); `(none)` for the month of its
-- first valid order
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
            stored_previous_months.segment,
            '(none)'
        ) as previous_segment,
        classified.first_order_date,
        classified.latest_order_date,
        classified.previous_order_date,
        classified.valid_orders_to_date,
        classified.days_since_first_order,
        classified.days_since_latest_order,
        classified.previous_gap_days,
        classified.net_revenue_last_90d,
        classified.orders_fingerprint

    from classified
    left join stored_previous_months
        on classified.customer_id = stored_previous_months.customer_id

)

select * from final
