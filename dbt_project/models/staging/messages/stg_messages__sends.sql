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

-- incremental: every version of the messages with a version loaded after the newest load already
-- in the table minus the lookback, or whose stored version's batch was replaced or removed
-- (macros/incremental_latest_version.sql); everything on a full refresh or an empty table
changed_versions as not materialized (

    {{ growthops.changed_versions('renamed', 'message_id') }}

),

-- a re-delivered file repeats its messages: the newest batch wins
latest_version as (

    {{ growthops.newest_version('changed_versions', ['message_id']) }}

)

select * from latest_version
