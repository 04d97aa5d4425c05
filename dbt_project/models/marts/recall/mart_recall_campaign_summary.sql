{%- set min_arm_size = var('recall_min_arm_size') | int -%}

with

campaign_weeks as (

    select * from {{ ref('int_recall_campaign_weeks_aggregated') }}

),

-- the campaign is the sum of its send weeks (exact integer and decimal sums)
campaigns as (

    select
        campaign_weeks.campaign_id,
        max(campaign_weeks.campaign_name) as campaign_name,
        max(campaign_weeks.channel) as channel,
        min(campaign_weeks.send_week) as first_send_week,
        max(campaign_weeks.send_week) as last_send_week,
        sum(campaign_weeks.contacts) as contacts,
        sum(campaign_weeks.unknown_contacts) as unknown_contacts,
        sum(campaign_weeks.targeted_contacts) as targeted_contacts,
        sum(campaign_weeks.holdout_contacts) as holdout_contacts,
        sum(campaign_weeks.crossovers) as crossovers,
        sum(campaign_weeks.excluded_not_lapsed) as excluded_not_lapsed,
        min(case when campaign_weeks.is_mature then 1 else 0 end) = 1 as is_mature,
        max(campaign_weeks.matures_on) as matures_on,
        max(campaign_weeks.as_of_date) as as_of_date,
        sum(campaign_weeks.reactivated_targeted) as reactivated_targeted,
        sum(campaign_weeks.reactivated_holdout) as reactivated_holdout,
        sum(campaign_weeks.window_revenue_targeted) as window_revenue_targeted,
        sum(campaign_weeks.window_revenue_holdout) as window_revenue_holdout,
        sum(campaign_weeks.window_revenue_squared_targeted) as window_revenue_squared_targeted,
        sum(campaign_weeks.window_revenue_squared_holdout) as window_revenue_squared_holdout,
        sum(campaign_weeks.message_cost) as message_cost,
        sum(campaign_weeks.attributed_reactivations) as attributed_reactivations

    from campaign_weeks
    group by campaign_weeks.campaign_id

),

statistics as (

    select
        campaigns.*,
        {{ growthops.recall_lift_statistics('campaigns') }}
        campaigns.holdout_contacts > 0 as has_holdout

    from campaigns

),

final as (

    select
        statistics.campaign_id,
        statistics.campaign_name,
        statistics.channel,
        statistics.first_send_week,
        statistics.last_send_week,
        cast(statistics.contacts as bigint) as contacts,
        cast(statistics.unknown_contacts as bigint) as unknown_contacts,
        cast(statistics.targeted_contacts as bigint) as targeted_contacts,
        cast(statistics.holdout_contacts as bigint) as holdout_contacts,
        cast(statistics.crossovers as bigint) as crossovers,
        cast(statistics.excluded_not_lapsed as bigint) as excluded_not_lapsed,
        statistics.has_holdout,
        statistics.targeted_contacts >= {{ min_arm_size }}
        and statistics.holdout_contacts >= {{ min_arm_size }} as is_sample_sufficient,
        statistics.is_mature,
        statistics.matures_on,
        {{ growthops.recall_outcome_columns('statistics') }}
        statistics.as_of_date,
        cast({{ var('recall_window_days') | int }} as integer) as recall_window_days,
        cast({{ min_arm_size }} as integer) as recall_min_arm_size,
        '{{ var("reporting_currency") | upper }}' as reporting_currency

    from statistics

)

select * from final
