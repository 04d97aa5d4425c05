-- mart_recall_campaigns: the send weeks of a campaign add up to its mart_recall_campaign_summary
-- row (contacts of each kind, message cost, and - once every week is mature - reactivations, window
-- revenue and attributed reactivations); the campaign is mature exactly when all its weeks are.
-- The campaign's cost adds its campaign-level retention_cost (costs export) to the weeks'
-- message cost, so the campaign's cost is message_cost + retention_cost. Returns the campaigns
-- that do not add up.
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
        sum(campaign_weeks.contacts) as contacts,
        sum(campaign_weeks.unknown_contacts) as unknown_contacts,
        sum(campaign_weeks.targeted_contacts) as targeted_contacts,
        sum(campaign_weeks.holdout_contacts) as holdout_contacts,
        sum(campaign_weeks.crossovers) as crossovers,
        sum(campaign_weeks.excluded_not_lapsed) as excluded_not_lapsed,
        sum(coalesce(campaign_weeks.cost, 0)) as total_cost,
        min(case when campaign_weeks.is_mature then 1 else 0 end) as all_mature,
        sum(campaign_weeks.reactivated_targeted) as reactivated_targeted,
        sum(campaign_weeks.reactivated_holdout) as reactivated_holdout,
        sum(campaign_weeks.window_revenue_targeted) as window_revenue_targeted,
        sum(campaign_weeks.window_revenue_holdout) as window_revenue_holdout,
        sum(campaign_weeks.attributed_reactivations) as attributed_reactivations

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
        or summary.contacts != weeks_summed.contacts
        or summary.unknown_contacts != weeks_summed.unknown_contacts
        or summary.targeted_contacts != weeks_summed.targeted_contacts
        or summary.holdout_contacts != weeks_summed.holdout_contacts
        or summary.crossovers != weeks_summed.crossovers
        or summary.excluded_not_lapsed != weeks_summed.excluded_not_lapsed
        or coalesce(summary.message_cost, 0) != weeks_summed.total_cost
        or coalesce(summary.cost, 0)
        != coalesce(summary.message_cost, 0) + coalesce(summary.retention_cost, 0)
        or summary.is_mature != (weeks_summed.all_mature = 1)
        or (
            summary.is_mature
            and (
                summary.reactivated_targeted != weeks_summed.reactivated_targeted
                or summary.reactivated_holdout != weeks_summed.reactivated_holdout
                or summary.window_revenue_targeted != weeks_summed.window_revenue_targeted
                or summary.window_revenue_holdout != weeks_summed.window_revenue_holdout
                or summary.attributed_reactivations != weeks_summed.attributed_reactivations
            )
        )

)

select * from compared
