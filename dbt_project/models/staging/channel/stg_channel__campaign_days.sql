with

source as not materialized (

    select * from {{ source('channel', 'channel_performance') }}

),

renamed as not materialized (

    select
        cast(source.date as date) as report_date,
        lower(trim(source.platform)) as platform,
        trim(source.campaign_id) as campaign_id,
        trim(source.campaign_name) as campaign_name,
        lower(trim(source.campaign_name)) as campaign_key,
        cast(source.impressions as bigint) as impressions,
        cast(source.clicks as bigint) as clicks,
        cast(source.spend as decimal(18, 4)) as spend_local,
        upper(trim(source.currency)) as currency,
        {{ growthops.lineage_columns('source') }}

    from source

),

-- a platform re-sends a day when its numbers are restated: the newest file wins
newest_file as (

    {{ growthops.newest_version('renamed', ['report_date', 'platform', 'campaign_id']) }}

)

select * from newest_file
