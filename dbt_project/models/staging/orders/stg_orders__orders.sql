with

source as not materialized (

    select * from {{ source('orders', 'shop_orders') }}

),

renamed as not materialized (

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

-- incremental: every version of the orders with a version loaded after the newest load already
-- in the table minus the lookback, or whose stored version's batch was replaced or removed
-- (macros/incremental_latest_version.sql); everything on a full refresh or an empty table.
-- Materialized on an incremental run: newest_version reads it three times, and each read trimmed
-- and cast every raw version before finding the few keys (DECISIONLOG 77). Not on a full refresh:
-- a copy of every raw version is slower and needs twice the memory
changed_versions as {{ 'materialized' if is_incremental() else 'not materialized' }} (

    {{ growthops.changed_versions('renamed', 'order_id') }}

),

-- an order appears again whenever its status or refund changes:
-- the newest updated_at wins, ties go to the later batch
latest_version as (

    {{ growthops.newest_version('changed_versions', ['order_id'], newest_first=['updated_at']) }}

)

select * from latest_version
