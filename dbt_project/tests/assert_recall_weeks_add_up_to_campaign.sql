-- mart_recall_campaigns: the send weeks of a campaign add up to its mart_recall_campaign_summary
-- row (contacts of each kind, message cost, and - once every week is mature - reactivations, window
-- revenue and attributed reactivations); the campaign is mature exactly when all its weeks are.
-- The campaign's cost adds its campaign-level retention_cost (costs export) to the weeks'
-- message cost, so the campaign's cost is message_cost + retention_cost. Returns the campaigns
-- that do not add up.
{%- set contact_counts = growthops.recall_contact_counts() -%}
{#- known only once the campaign is mature -#}
{%- set mature_outcomes = [
    'reactivated_targeted', 'reactivated_holdout', 'window_revenue_targeted', 'window_revenue_holdout',
    'attributed_reactivations',
] %}

with

campaign_weeks as (

    select * from {{ ref('mart_recall_campaigns') }}

),

summary as (

    select * from {{ ref('mart_recall_campaign_summary') }}

),

weeks_summed as (

    select
        campaign_weeks.campaign_id,
        {{ growthops.sum_columns('campaign_weeks', contact_counts) }},
        sum(coalesce(campaign_weeks.cost, 0)) as total_cost,
        min(case when campaign_weeks.is_mature then 1 else 0 end) as all_mature,
        {{ growthops.sum_columns('campaign_weeks', mature_outcomes) }}

    from campaign_weeks
    group by campaign_weeks.campaign_id

),

compared as (

    select
        coalesce(summary.campaign_id, weeks_summed.campaign_id) as campaign_id,
        summary.contacts as summary_contacts,
        weeks_summed.contacts as weeks_contacts

    from summary
    full outer join weeks_summed
        on summary.campaign_id = weeks_summed.campaign_id
    where
        summary.campaign_id is null
        or weeks_summed.campaign_id is null
        or {{ growthops.any_column_differs('summary', 'weeks_summed', contact_counts) }}
        or coalesce(summary.message_cost, 0) != weeks_summed.total_cost
        or coalesce(summary.cost, 0)
        != coalesce(summary.message_cost, 0) + coalesce(summary.retention_cost, 0)
        or summary.is_mature != (weeks_summed.all_mature = 1)
        or (
            summary.is_mature
            and {{ growthops.any_column_differs('summary', 'weeks_summed', mature_outcomes) }}
        )

)

select * from compared
