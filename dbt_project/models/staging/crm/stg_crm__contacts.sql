with

contact_versions as not materialized (

    select * from {{ ref('stg_crm__contact_versions') }}

),

-- a contact appears again whenever it changes: the newest updated_at wins, ties go to the later batch
latest_version as (

    {{ growthops.newest_version('contact_versions', ['contact_id'], newest_first=['updated_at']) }}

)

select * from latest_version
