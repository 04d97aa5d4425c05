with

source as (

    select * from {{ source('crm', 'crm_contacts') }}

),

-- every loaded version of every contact (raw keeps them all): the CRM stage history, and the
-- versions stg_crm__contacts picks the latest of. The email leaves raw only as its sha256, null on
-- an erasure version; a view, so nothing of it is stored (an erasure clears raw, the view follows)
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

)

select * from renamed
