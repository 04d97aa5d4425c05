with

versions as (

    select * from {{ ref('stg_crm__contact_versions') }}

),

-- versions in the order the CRM made them (updated_at; ties: later batch, load, batch id, line,
-- the same order that picks the latest version in stg_crm__contacts)
numbered as (

    select
        versions.contact_id,
        versions.updated_at,
        versions.lifecycle_stage,
        row_number() over (
            partition by versions.contact_id
            order by
                versions.updated_at asc,
                versions.source_batch_day asc,
                versions.source_loaded_at asc,
                versions.source_batch_id asc,
                versions.source_line asc
        ) as version_number

    from versions

),

sequenced as (

    select
        numbered.contact_id,
        numbered.updated_at,
        numbered.lifecycle_stage,
        lag(numbered.lifecycle_stage) over (
            partition by numbered.contact_id
            order by numbered.version_number
        ) as previous_stage,
        numbered.version_number

    from numbered

),

-- a change is a version whose stage differs from the version before it (the first version sets
-- the first stage); re-sent versions with an unchanged stage are not changes
changes as (

    select
        sequenced.contact_id,
        sequenced.lifecycle_stage,
        sequenced.previous_stage,
        sequenced.updated_at as changed_at,
        sequenced.version_number

    from sequenced
    where
        sequenced.previous_stage is null
        or sequenced.previous_stage != sequenced.lifecycle_stage

),

final as (

    select
        changes.contact_id,
        cast(row_number() over (
            partition by changes.contact_id
            order by changes.version_number
        ) as integer) as change_number,
        changes.lifecycle_stage,
        changes.previous_stage,
        changes.changed_at,
        {{ growthops.to_reporting_date('changes.changed_at') }} as changed_date,
        changes.lifecycle_stage in ('mql', 'sql', 'opportunity', 'customer') as is_engaged_stage

    from changes

)

select * from final
