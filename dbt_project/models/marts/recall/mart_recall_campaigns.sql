with

campaign_weeks as (

    select * from {{ ref('int_recall_campaign_weeks_aggregated') }}

),

statistics as (

    select
        campaign_weeks.*,
        {{ growthops.recall_lift_statistics('campaign_weeks') }}
        campaign_weeks.holdout_contacts > 0 as has_holdout

    from campaign_weeks

),

final as (

    select
        statistics.campaign_id,
        statistics.send_week,
        statistics.campaign_name,
        statistics.channel,
        statistics.contacts,
        statistics.unknown_contacts,
        statistics.targeted_contacts,
        statistics.holdout_contacts,
        statistics.crossovers,
        statistics.excluded_not_lapsed,
        statistics.has_holdout,
        statistics.is_mature,
        statistics.matures_on,
        {{ growthops.recall_outcome_columns('statistics') }}
        statistics.as_of_date,
        cast({{ var('recall_window_days') | int }} as integer) as recall_window_days,
        '{{ var("reporting_currency") | upper }}' as reporting_currency

    from statistics

)

select * from final
