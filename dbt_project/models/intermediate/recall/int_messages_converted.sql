with

messages as (

    select * from {{ ref('stg_messages__sends') }}

),

contacts as (

    select * from {{ ref('int_contacts_attributed') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_filled_daily') }}

),

dated as (

    select
        messages.*,
        {{ growthops.to_reporting_date('messages.sent_at') }} as sent_date

    from messages

),

-- cost converted at the send date's rate, like revenue; a message to a contact unknown to the
-- CRM is kept and flagged, never dropped
converted as (

    select
        dated.message_id,
        dated.contact_id,
        contacts.contact_id is not null as is_known_contact,
        dated.campaign_id,
        dated.campaign_name,
        dated.channel,
        dated.purpose,
        dated.purpose = 'recall' as is_recall,
        dated.sent_at,
        dated.sent_date,
        dated.is_holdout,
        dated.currency,
        dated.cost_local,
        case when dated.cost_local is not null then fx_rates.to_reporting_rate end as fx_rate,
        {{ growthops.convert_money('dated.cost_local', 'fx_rates.to_reporting_rate') }} as message_cost,
        dated.source_batch_id,
        dated.source_loaded_at

    from dated
    left join contacts
        on dated.contact_id = contacts.contact_id
    left join fx_rates
        on
            dated.currency = fx_rates.currency
            and dated.sent_date = fx_rates.rate_day

)

select * from converted
