with

source as (

    select * from {{ source('fx', 'fx_rates') }}

),

renamed as (

    select
        cast(source.date as date) as rate_date,
        upper(trim(source.currency)) as currency,
        cast(source.usd_rate as decimal(18, 8)) as usd_rate,
        {{ growthops.lineage_columns('source') }}

    from source

),

-- a rate re-sent for the same day: the newest file wins
ranked as (

    select
        renamed.*,
        {{ growthops.version_rank('renamed', ['rate_date', 'currency']) }} as version_rank

    from renamed

),

newest_file as (

    select
        ranked.rate_date,
        ranked.currency,
        ranked.usd_rate,
        ranked.source_batch_id,
        ranked.source_batch_day,
        ranked.source_file,
        ranked.source_line,
        ranked.source_loaded_at

    from ranked
    where ranked.version_rank = 1

)

select * from newest_file
