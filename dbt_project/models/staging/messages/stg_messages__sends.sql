with

source as (

    select * from {{ source('messages', 'messages_sends') }}

),

renamed as (

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
ranked as (

    select
        renamed.*,
        {{ growthops.version_rank('renamed', ['message_id']) }} as version_rank

    from renamed

),

latest_version as (

    select
        ranked.message_id,
        ranked.contact_id,
        ranked.campaign_id,
        ranked.campaign_name,
        ranked.channel,
        ranked.purpose,
        ranked.sent_at,
        ranked.is_holdout,
        ranked.cost_local,
        ranked.currency,
        ranked.source_batch_id,
        ranked.source_batch_day,
        ranked.source_file,
        ranked.source_line,
        ranked.source_loaded_at

    from ranked
    where ranked.version_rank = 1

)

select * from latest_version
