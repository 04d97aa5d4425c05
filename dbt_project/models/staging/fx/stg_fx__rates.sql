with

source as not materialized (

    select * from {{ source('fx', 'fx_rates') }}

),

renamed as not materialized (

    select
        cast(source.date as date) as rate_date,
        upper(trim(source.currency)) as currency,
        cast(source.usd_rate as decimal(18, 8)) as usd_rate,
        {{ growthops.lineage_columns('source') }}

    from source

),

-- a rate re-sent for the same day: the newest file wins
newest_file as (

    {{ growthops.newest_version('renamed', ['rate_date', 'currency']) }}

)

select * from newest_file
