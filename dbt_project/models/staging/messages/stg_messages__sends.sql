with

source as not materialized (

    select * from {{ source('messages', 'messages_sends') }}

),

renamed as not materialized (

    select
        trim(source.message_id) as message_id,
        trim(source.contact_id) as contact_id,
        trim(source.campaign_id) as campaign_id,
        trim(source.campaign_name) as campaign_name,
        lower(trim(source.channel)) as channel,
        lower(trim(source.purpose)) as purpose,
        cast(source.sent_at as timestamp) as sent_at,
        cast(source.is_holdout as boolean) as is_holdout,
        cast(source.cost as decimal(18, 4)) as cost_local,
        -- empty = no cost
        nullif(upper(trim(source.currency)), '') as currency,
        {{ growthops.lineage_columns('source') }}

    from source

),

-- a re-delivered file repeats its messages: the newest batch wins
latest_version as (

    {{ growthops.newest_version('renamed', ['message_id']) }}

)

select * from latest_version
