with

source as (

    select * from {{ source('orders', 'shop_orders') }}

),

renamed as (

    select
        trim(source.order_id) as order_id,
        -- empty = guest order (kept, attributed to `unattributed` downstream)
        nullif(trim(source.contact_id), '') as contact_id,
        cast(source.created_at as timestamp) as created_at,
        cast(source.updated_at as timestamp) as updated_at,
        lower(trim(source.status)) as status,
        upper(trim(source.currency)) as currency,
        cast(source.gross_amount as decimal(18, 4)) as gross_amount_local,
        cast(source.discount_amount as decimal(18, 4)) as discount_amount_local,
        cast(source.refund_amount as decimal(18, 4)) as refund_amount_local,
        {{ growthops.lineage_columns('source') }}

    from source

),

-- an order appears again whenever its status or refund changes:
-- the newest updated_at wins, ties go to the later batch
ranked as (

    select
        renamed.*,
        {{ growthops.version_rank('renamed', ['order_id'], newest_first=['updated_at']) }} as version_rank

    from renamed

),

latest_version as (

    select
        ranked.order_id,
        ranked.contact_id,
        ranked.created_at,
        ranked.updated_at,
        ranked.status,
        ranked.currency,
        ranked.gross_amount_local,
        ranked.discount_amount_local,
        ranked.refund_amount_local,
        ranked.source_batch_id,
        ranked.source_batch_day,
        ranked.source_file,
        ranked.source_line,
        ranked.source_loaded_at

    from ranked
    where ranked.version_rank = 1

)

select * from latest_version
