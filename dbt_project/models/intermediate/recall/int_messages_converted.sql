{#- a table built before this model was incremental (without the reporting currency and timezone
    columns) is read as no previous build (macros/stored_table.sql) -#}
{%- set incremental = growthops.stored_table_has(['reporting_currency', 'reporting_timezone']) -%}

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

{% if incremental %}
    -- incremental (DECISIONLOG 75): the messages whose latest version was loaded after the newest
    -- load already in the table minus the lookback, and the messages whose other inputs moved:
    -- a contact loaded since (it may be known to the CRM now) or known before and gone, the days
    -- whose fx rate was loaded since, a batch the staging model no longer holds (another version
    -- is the latest now, or none: the post-hook deletes it); everything when the reporting
    -- currency or timezone changed
    rebuild_window as (

        select {{ growthops.rebuild_loaded_after('source_loaded_at') }} as rebuild_loaded_after

    ),

    moved_messages as (

        {{ growthops.rerated_rows('message_id', 'sent_date') }}

        union all

        select previous_build.message_id
        from {{ this }} as previous_build
        where
            {{ growthops.batch_left('previous_build', ref('stg_messages__sends')) }}
            or (
                previous_build.is_known_contact
                and previous_build.contact_id not in (select known.contact_id from contacts as known)
            )

        union all

        select messages.message_id
        from messages
        inner join contacts
            on messages.contact_id = contacts.contact_id
        cross join rebuild_window
        where contacts.source_loaded_at > rebuild_window.rebuild_loaded_after

    ),
{% endif %}

changed_messages as (

    select messages.*
    from messages
    {%- if incremental %}
        where
            messages.source_loaded_at > (select rebuild_window.rebuild_loaded_after from rebuild_window)
            or messages.message_id in (select moved_messages.message_id from moved_messages)
    {%- endif %}

),

dated as (

    select
        changed_messages.*,
        {{ growthops.to_reporting_date('changed_messages.sent_at') }} as sent_date

    from changed_messages

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
        dated.source_loaded_at,
        '{{ var("reporting_currency") | upper }}' as reporting_currency,
        '{{ var("reporting_timezone") }}' as reporting_timezone

    from dated
    left join contacts
        on dated.contact_id = contacts.contact_id
    left join fx_rates
        on
            dated.currency = fx_rates.currency
            and dated.sent_date = fx_rates.rate_day

)

select * from converted
