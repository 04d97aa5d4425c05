with

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

channel_mapping as (

    select * from {{ ref('channel_mapping') }}

),

-- the mapping runs on the few distinct utm pairs, not on every contact
utm_pairs as (

    select distinct
        coalesce(contacts.utm_source, '') as utm_source,
        coalesce(contacts.utm_medium, '') as utm_medium

    from contacts

),

-- every rule whose patterns match (SQL like on lower-trimmed values, '' = missing)
matching_rules as (

    select
        utm_pairs.utm_source,
        utm_pairs.utm_medium,
        channel_mapping.channel,
        row_number() over (
            partition by utm_pairs.utm_source, utm_pairs.utm_medium
            order by
                channel_mapping.priority asc,
                coalesce(channel_mapping.utm_source_pattern, '') asc,
                coalesce(channel_mapping.utm_medium_pattern, '') asc
        ) as rule_rank

    from utm_pairs
    inner join channel_mapping
        on
            utm_pairs.utm_source like coalesce(lower(trim(channel_mapping.utm_source_pattern)), '')
            and utm_pairs.utm_medium like coalesce(lower(trim(channel_mapping.utm_medium_pattern)), '')

),

-- no utm at all -> direct; else the matching rule with the lowest priority number
utm_channels as (

    select
        utm_pairs.utm_source,
        utm_pairs.utm_medium,
        case
            when utm_pairs.utm_source = '' and utm_pairs.utm_medium = '' then 'direct'
            else matching_rules.channel
        end as channel

    from utm_pairs
    left join matching_rules
        on
            utm_pairs.utm_source = matching_rules.utm_source
            and utm_pairs.utm_medium = matching_rules.utm_medium
            and matching_rules.rule_rank = 1

),

attributed as (

    select
        contacts.contact_id,
        contacts.email_sha256,
        contacts.country_code,
        contacts.is_deleted,
        contacts.created_at as signup_at,
        {{ growthops.to_reporting_date('contacts.created_at') }} as signup_date,
        {{ growthops.month_start(growthops.to_reporting_date('contacts.created_at')) }} as signup_month,
        contacts.updated_at,
        contacts.lifecycle_stage,
        contacts.lifecycle_stage in ('mql', 'sql', 'opportunity', 'customer') as is_engaged,
        contacts.utm_source,
        contacts.utm_medium,
        utm_channels.channel,
        coalesce(contacts.campaign_key, '(none)') as campaign,
        contacts.source_batch_id,
        contacts.source_loaded_at

    from contacts
    left join utm_channels
        on
            coalesce(contacts.utm_source, '') = utm_channels.utm_source
            and coalesce(contacts.utm_medium, '') = utm_channels.utm_medium

)

select * from attributed
