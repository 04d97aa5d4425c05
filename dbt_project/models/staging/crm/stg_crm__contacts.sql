with

source as (

    select * from {{ source('crm', 'crm_contacts') }}

),

renamed as (

    select
        trim(source.contact_id) as contact_id,
        -- PII: only the sha256 of the lower-trimmed email leaves raw; nothing after an erasure request
        case
            when coalesce(source.is_deleted, false) then null
            when nullif(trim(source.email), '') is null then null
            else {{ growthops.sha256_hex('lower(trim(source.email))') }}
        end as email_sha256,
        cast(source.created_at as timestamp) as created_at,
        cast(source.updated_at as timestamp) as updated_at,
        lower(trim(source.lifecycle_stage)) as lifecycle_stage,
        nullif(lower(trim(source.utm_source)), '') as utm_source,
        nullif(lower(trim(source.utm_medium)), '') as utm_medium,
        nullif(lower(trim(source.utm_campaign)), '') as campaign_key,
        nullif(upper(trim(source.country)), '') as country_code,
        coalesce(source.is_deleted, false) as is_deleted,
        {{ growthops.lineage_columns('source') }}

    from source

),

-- a contact appears again whenever it changes: the newest updated_at wins, ties go to the later batch
latest_version as (

    {{ growthops.newest_version('renamed', ['contact_id'], newest_first=['updated_at']) }}

)

select * from latest_version
