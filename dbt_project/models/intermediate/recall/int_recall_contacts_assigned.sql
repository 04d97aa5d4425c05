{%- set reactivation_days = var('reactivation_days') | int -%}
{%- set window_hours = (var('recall_window_days') | int) * 24 -%}

with

messages as (

    select * from {{ ref('int_messages_converted') }}

),

orders as (

    select * from {{ ref('int_orders_converted') }}

),

-- every recall row of the contact in the campaign, numbered by sent_at, with the contact's totals:
-- a contact with rows in both arms has a later row in the other arm than its first (a crossover)
recall_rows as (

    select
        messages.*,
        row_number() over (
            campaign_contact
            order by messages.sent_at asc, messages.message_id asc
        ) as row_sequence,
        count(*) over campaign_contact as recall_rows_count,
        bool_or(messages.is_holdout) over campaign_contact
        and not bool_and(messages.is_holdout) over campaign_contact as has_crossover,
        sum(messages.message_cost) over campaign_contact as recall_cost

    from messages
    where messages.is_recall
    window campaign_contact as (partition by messages.campaign_id, messages.contact_id)

),

-- the contact's first recall row of the campaign (message or holdout) sets its arm and sent_at
first_rows as (

    select
        recall_rows.campaign_id,
        recall_rows.contact_id,
        recall_rows.is_known_contact,
        recall_rows.message_id as first_message_id,
        recall_rows.is_holdout,
        recall_rows.sent_at,
        recall_rows.sent_date,
        {{ growthops.week_start('recall_rows.sent_date') }} as send_week,
        {{ growthops.add_hours('recall_rows.sent_at', window_hours) }} as window_ends_at,
        recall_rows.recall_rows_count,
        recall_rows.has_crossover,
        recall_rows.recall_cost

    from recall_rows
    where recall_rows.row_sequence = 1

),

-- lapsed at sent_at: the latest valid order with created_at < sent_at. One timeline per recalled
-- contact (its first recall rows and its valid orders, a recall row before an order at the same
-- time) and a running max, instead of pairing every recall row with every earlier order
-- (DECISIONLOG 63)
recall_timeline as (

    select
        first_rows.campaign_id,
        first_rows.contact_id,
        first_rows.sent_at as event_at,
        0 as event_order,
        cast(null as date) as order_date

    from first_rows

    union all

    select
        null as campaign_id,
        orders.contact_id,
        orders.created_at as event_at,
        1 as event_order,
        orders.order_date

    from orders
    where
        orders.is_valid
        and orders.contact_id in (select recalled.contact_id from first_rows as recalled)

),

latest_orders_so_far as (

    select
        recall_timeline.campaign_id,
        recall_timeline.contact_id,
        recall_timeline.event_order,
        max(recall_timeline.order_date) over (
            partition by recall_timeline.contact_id
            order by recall_timeline.event_at asc, recall_timeline.event_order asc
            rows between unbounded preceding and current row
        ) as last_valid_order_date

    from recall_timeline

),

prior_orders as (

    select
        latest_orders_so_far.campaign_id,
        latest_orders_so_far.contact_id,
        latest_orders_so_far.last_valid_order_date

    from latest_orders_so_far
    where latest_orders_so_far.event_order = 0

),

assigned as (

    select
        first_rows.campaign_id,
        first_rows.contact_id,
        first_rows.is_known_contact,
        first_rows.first_message_id,
        first_rows.is_holdout,
        case when first_rows.is_holdout then 'holdout' else 'targeted' end as arm,
        first_rows.sent_at,
        first_rows.sent_date,
        first_rows.send_week,
        first_rows.window_ends_at,
        {{ growthops.to_reporting_date('first_rows.window_ends_at') }} as matures_on,
        cast(first_rows.recall_rows_count as bigint) as recall_rows_count,
        first_rows.has_crossover,
        cast(first_rows.recall_cost as decimal(18, 4)) as recall_cost,
        prior_orders.last_valid_order_date,
        coalesce(
            {{ growthops.days_between('prior_orders.last_valid_order_date', 'first_rows.sent_date') }}
            > {{ reactivation_days }},
            false
        ) as is_lapsed

    from first_rows
    left join prior_orders
        on
            first_rows.campaign_id = prior_orders.campaign_id
            and first_rows.contact_id = prior_orders.contact_id

)

select * from assigned
