-- fct_orders: every order carries its customer's current first-touch attribution (int_contacts_attributed):
-- known to the CRM or not, its channel and campaign, and the batch of the contact version they came
-- from. The incremental order chain rebuilds only what changed (DECISIONLOG 58, 78); a change it
-- missed would leave an order with its contact's earlier attribution, which no revenue total shows.
-- Returns the orders whose attribution is not their contact's.
with

orders as (

    select * from {{ ref('fct_orders') }}

),

contacts as (

    select * from {{ ref('int_contacts_attributed') }}

),

attributions as (

    select
        orders.order_id,
        orders.customer_id,
        orders.is_known_contact,
        orders.channel,
        orders.campaign,
        orders.contact_batch_id,
        contacts.contact_id is not null as contact_is_known,
        coalesce(contacts.channel, 'unattributed') as contact_channel,
        case when contacts.contact_id is null then '(none)' else contacts.campaign end as contact_campaign,
        contacts.source_batch_id as contact_source_batch_id

    from orders
    left join contacts
        on orders.customer_id = contacts.contact_id

),

stale_orders as (

    select attributions.*

    from attributions
    where
        attributions.is_known_contact != attributions.contact_is_known
        or attributions.channel != attributions.contact_channel
        or attributions.campaign != attributions.contact_campaign
        or attributions.contact_batch_id is distinct from attributions.contact_source_batch_id

)

select * from stale_orders
