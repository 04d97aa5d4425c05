with

contact_versions as not materialized (

    select * from {{ ref('stg_crm__contact_versions') }}

),

-- incremental: every version of the contacts with a version loaded after the newest load already
-- in the table minus the lookback, or whose stored version's batch was replaced or removed
-- (macros/incremental_latest_version.sql); everything on a full refresh or an empty table
changed_versions as not materialized (

    {{ growthops.changed_versions('contact_versions', 'contact_id') }}

),

-- a contact appears again whenever it changes: the newest updated_at wins, ties go to the later batch
latest_version as (

    {{ growthops.newest_version('changed_versions', ['contact_id'], newest_first=['updated_at']) }}

)

select * from latest_version
