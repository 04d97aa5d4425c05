{%- set min_arm_size = var('recall_min_arm_size') | int -%}
{#- the counts of a send week, summed to the campaign and cast back to the contract's bigint -#}
{%- set contact_counts = growthops.recall_contact_counts() -%}
{#- the arm outcomes and costs of a send week, summed to the campaign -#}
{%- set week_outcomes = [
    'reactivated_targeted', 'reactivated_holdout',
    'window_revenue_targeted', 'window_revenue_holdout',
    'window_revenue_squared_targeted', 'window_revenue_squared_holdout',
    'message_cost', 'attributed_reactivations',
] -%}

with

campaign_weeks as (

    select * from {{ ref('int_recall_campaign_weeks_aggregated') }}

),

retention_cost_rows as (

    select * from {{ ref('int_costs_converted') }}
    where purpose = 'retention'

),

-- the campaign is the sum of its send weeks (exact integer and decimal sums)
campaigns as (

    select
        campaign_weeks.campaign_id,
        max(campaign_weeks.campaign_name) as campaign_name,
        max(campaign_weeks.channel) as channel,
        min(campaign_weeks.send_week) as first_send_week,
        max(campaign_weeks.send_week) as last_send_week,
        {{ growthops.sum_columns('campaign_weeks', contact_counts) }},
        min(case when campaign_weeks.is_mature then 1 else 0 end) = 1 as is_mature,
        max(campaign_weeks.matures_on) as matures_on,
        max(campaign_weeks.as_of_date) as as_of_date,
        {{ growthops.sum_columns('campaign_weeks', week_outcomes) }}

    from campaign_weeks
    group by campaign_weeks.campaign_id

),

-- retention-purpose cost rows of the costs export whose campaign_key (lower-trimmed campaign)
-- is the campaign's lower-trimmed name or id: campaign-level costs, on the summary only (a cost
-- date is not a send week); each cost row counts at most once per campaign
retention_costs as (

    select
        campaigns.campaign_id,
        sum(retention_cost_rows.amount) as retention_cost

    from campaigns
    inner join retention_cost_rows
        on
            retention_cost_rows.campaign_key = lower(trim(campaigns.campaign_name))
            or retention_cost_rows.campaign_key = lower(trim(campaigns.campaign_id))
    group by campaigns.campaign_id

),

campaigns_costed as (

    select
        campaigns.*,
        retention_costs.retention_cost,
        case
            when campaigns.message_cost is not null or retention_costs.retention_cost is not null
                then coalesce(campaigns.message_cost, 0) + coalesce(retention_costs.retention_cost, 0)
        end as total_cost

    from campaigns
    left join retention_costs
        on campaigns.campaign_id = retention_costs.campaign_id

),

statistics as (

    select
        campaigns_costed.*,
        {{ growthops.recall_lift_statistics('campaigns_costed') }}
        campaigns_costed.holdout_contacts > 0 as has_holdout

    from campaigns_costed

),

final as (

    select
        statistics.campaign_id,
        statistics.campaign_name,
        statistics.channel,
        statistics.first_send_week,
        statistics.last_send_week,
        {{ growthops.cast_columns('statistics', contact_counts, 'bigint') }},
        statistics.has_holdout,
        statistics.targeted_contacts >= {{ min_arm_size }}
        and statistics.holdout_contacts >= {{ min_arm_size }} as is_sample_sufficient,
        statistics.is_mature,
        statistics.matures_on,
        {{ growthops.recall_outcome_columns('statistics', 'total_cost') }}
        cast(statistics.message_cost as decimal(18, 4)) as message_cost,
        cast(statistics.retention_cost as decimal(18, 4)) as retention_cost,
        statistics.as_of_date,
        cast({{ var('recall_window_days') | int }} as integer) as recall_window_days,
        cast({{ min_arm_size }} as integer) as recall_min_arm_size,
        '{{ var("reporting_currency") | upper }}' as reporting_currency

    from statistics

)

select * from final
