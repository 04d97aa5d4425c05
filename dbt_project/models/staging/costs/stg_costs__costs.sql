with

source as not materialized (

    select * from {{ source('costs', 'costs_daily') }}

),

renamed as not materialized (

    select
        cast(source.date as date) as cost_date,
        lower(trim(source.channel)) as channel,
        coalesce(nullif(lower(trim(source.campaign)), ''), '(none)') as campaign_key,
        lower(trim(source.cost_type)) as cost_type,
        coalesce(nullif(lower(trim(source.purpose)), ''), 'acquisition') as purpose,
        cast(source.amount as decimal(18, 4)) as amount_local,
        upper(trim(source.currency)) as currency,
        {{ growthops.lineage_columns('source') }}

    from source

),

-- a restated day is re-sent: per key the newest file wins, nothing is summed across files
newest_file as (

    {{ growthops.newest_version('renamed', ['cost_date', 'channel', 'campaign_key', 'cost_type', 'purpose']) }}

)

select * from newest_file
