with

contacts as (

    select * from {{ ref('int_contacts_attributed') }}

),

first_orders as (

    select * from {{ ref('int_first_orders_identified') }}

),

contact_orders as (

    select * from {{ ref('int_contact_orders_aggregated') }}

),

segments as (

    select * from {{ ref('int_customer_segments_dated') }}

),

last_recall_messages as (

    select * from {{ ref('int_contacts_last_recall_message') }}

),

as_of as (

    select * from {{ ref('int_as_of_dates_identified') }}

),

-- segment and RFM as of the as-of date (SPEC §11), over every customer with a segment:
-- score = 1 + floor(5 x (rank() - 1) / n), ranked ascending, ties share the lower score
current_segments as (

    select
        segments.customer_id,
        segments.segment,
        segments.previous_gap_days,
        {{ growthops.rfm_score('segments.latest_order_date', 'count(*) over ()') }} as rfm_recency,
        {{ growthops.rfm_score('segments.valid_orders_to_date', 'count(*) over ()') }} as rfm_frequency,
        {{ growthops.rfm_score('coalesce(contact_orders.net_revenue, 0)', 'count(*) over ()') }} as rfm_monetary

    from segments
    inner join as_of
        on segments.segment_date = as_of.as_of_date
    left join contact_orders
        on segments.customer_id = contact_orders.customer_id

),

-- every CRM contact, plus every contact_id seen on an order but unknown to the CRM
customer_keys as (

    select contacts.contact_id as customer_id
    from contacts

    union

    select contact_orders.customer_id
    from contact_orders

),

joined as (

    select
        customer_keys.customer_id,
        contacts.contact_id is not null as is_known_contact,
        coalesce(contacts.is_deleted, false) as is_erased,
        contacts.email_sha256,
        contacts.country_code,
        coalesce(contacts.channel, 'unattributed') as first_touch_channel,
        coalesce(contacts.campaign, '(none)') as first_touch_campaign,
        contacts.signup_at,
        contacts.signup_date,
        contacts.lifecycle_stage,
        coalesce(contacts.is_engaged, false) as is_engaged,
        first_orders.customer_id is not null as is_customer,
        first_orders.first_order_id,
        first_orders.first_order_date,
        first_orders.cohort_month,
        cast(coalesce(contact_orders.valid_orders_count, 0) as bigint) as orders_count,
        cast(coalesce(contact_orders.net_revenue, 0) as decimal(18, 4)) as lifetime_net_revenue,
        contact_orders.last_valid_order_date as last_order_date,
        cast(
            {{ growthops.days_between('contact_orders.last_valid_order_date', 'as_of.as_of_date') }}
            as bigint
        ) as days_since_last_order,
        current_segments.segment,
        current_segments.rfm_recency,
        current_segments.rfm_frequency,
        current_segments.rfm_monetary,
        current_segments.previous_gap_days,
        cast(
            {{ growthops.days_between('contacts.signup_date', 'first_orders.first_order_date') }}
            as integer
        ) as days_to_first_order,
        as_of.as_of_date,
        '{{ var("reporting_currency") | upper }}' as reporting_currency,
        -- the contact's latest recall row (message or holdout), so recall work sees who was contacted
        last_recall_messages.last_recall_campaign_id,
        last_recall_messages.last_recall_campaign_name,
        last_recall_messages.last_recall_sent_at,
        last_recall_messages.last_recall_is_holdout

    from customer_keys
    cross join as_of
    left join contacts
        on customer_keys.customer_id = contacts.contact_id
    left join first_orders
        on customer_keys.customer_id = first_orders.customer_id
    left join contact_orders
        on customer_keys.customer_id = contact_orders.customer_id
    left join current_segments
        on customer_keys.customer_id = current_segments.customer_id
    left join last_recall_messages
        on customer_keys.customer_id = last_recall_messages.contact_id

)

select * from joined
