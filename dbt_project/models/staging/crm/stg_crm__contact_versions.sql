with

source as (

    select * from {{ source('crm', 'crm_contacts') }}

),

-- every loaded version of every contact (raw keeps them all): the CRM stage history.
-- No PII: the email stays in raw.
renamed as (

    select
        trim(source.contact_id) as contact_id,
        cast(source.created_at as timestamp) as created_at,
        cast(source.updated_at as timestamp) as updated_at,
        lower(trim(source.lifecycle_stage)) as lifecycle_stage,
        coalesce(source.is_deleted, false) as is_deleted,
        {{ growthops.lineage_columns('source') }}

    from source

)

select * from renamed
