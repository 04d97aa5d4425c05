with

messages as (

    select * from {{ ref('int_messages_converted') }}

),

-- the latest recall row of each contact, message or holdout (ties: latest message_id)
ranked as (

    select
        messages.contact_id,
        messages.message_id,
        messages.campaign_id,
        messages.campaign_name,
        messages.sent_at,
        messages.is_holdout,
        row_number() over (
            partition by messages.contact_id
            order by messages.sent_at desc, messages.message_id desc
        ) as recency_rank

    from messages
    where messages.is_recall

),

last_recall_messages as (

    select
        ranked.contact_id,
        ranked.message_id as last_recall_message_id,
        ranked.campaign_id as last_recall_campaign_id,
        ranked.campaign_name as last_recall_campaign_name,
        ranked.sent_at as last_recall_sent_at,
        ranked.is_holdout as last_recall_is_holdout

    from ranked
    where ranked.recency_rank = 1

)

select * from last_recall_messages
