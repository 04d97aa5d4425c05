with

contacts as (

    select * from {{ ref('int_recall_contacts_reactivated') }}

),

messages as (

    select * from {{ ref('int_messages_converted') }}

),

-- name and channel of a campaign: those of its latest recall row
campaign_rows as (

    select
        messages.campaign_id,
        messages.campaign_name,
        messages.channel,
        row_number() over (
            partition by messages.campaign_id
            order by messages.sent_at desc, messages.message_id desc
        ) as recency_rank

    from messages
    where messages.is_recall

),

campaigns as (

    select
        campaign_rows.campaign_id,
        campaign_rows.campaign_name,
        campaign_rows.channel

    from campaign_rows
    where campaign_rows.recency_rank = 1

),

-- the measured arms are the contacts lapsed at sent_at; sums of squares feed Welch's variance
measured as (

    select
        contacts.*,
        contacts.is_lapsed and not contacts.is_holdout as is_targeted,
        contacts.is_lapsed and contacts.is_holdout as is_in_holdout,
        cast(contacts.window_revenue * contacts.window_revenue as decimal(38, 8)) as window_revenue_squared

    from contacts

),

aggregated as (

    select
        measured.campaign_id,
        measured.send_week,
        count(*) as contacts,
        sum(case when not measured.is_known_contact then 1 else 0 end) as unknown_contacts,
        sum(case when measured.is_targeted then 1 else 0 end) as targeted_contacts,
        sum(case when measured.is_in_holdout then 1 else 0 end) as holdout_contacts,
        sum(case when measured.is_lapsed and measured.has_crossover then 1 else 0 end) as crossovers,
        sum(case when not measured.is_lapsed then 1 else 0 end) as excluded_not_lapsed,
        min(case when measured.is_mature then 1 else 0 end) as all_mature,
        max(measured.matures_on) as matures_on,
        max(measured.as_of_date) as as_of_date,
        sum(case when measured.is_targeted and measured.is_reactivated then 1 else 0 end) as reactivated_targeted,
        sum(case when measured.is_in_holdout and measured.is_reactivated then 1 else 0 end) as reactivated_holdout,
        sum(case when measured.is_targeted then measured.window_revenue else 0 end) as window_revenue_targeted,
        sum(case when measured.is_in_holdout then measured.window_revenue else 0 end) as window_revenue_holdout,
        sum(
            case when measured.is_targeted then measured.window_revenue_squared else 0 end
        ) as window_revenue_squared_targeted,
        sum(
            case when measured.is_in_holdout then measured.window_revenue_squared else 0 end
        ) as window_revenue_squared_holdout,
        sum(measured.recall_cost) as message_cost,
        sum(
            case when measured.is_targeted and measured.has_attributed_order then 1 else 0 end
        ) as attributed_reactivations

    from measured
    group by
        measured.campaign_id,
        measured.send_week

),

final as (

    select
        aggregated.campaign_id,
        aggregated.send_week,
        campaigns.campaign_name,
        campaigns.channel,
        {{ growthops.cast_columns('aggregated', growthops.recall_contact_counts(), 'bigint') }},
        aggregated.all_mature = 1 as is_mature,
        aggregated.matures_on,
        aggregated.as_of_date,
        cast(aggregated.reactivated_targeted as bigint) as reactivated_targeted,
        cast(aggregated.reactivated_holdout as bigint) as reactivated_holdout,
        cast(aggregated.window_revenue_targeted as decimal(18, 4)) as window_revenue_targeted,
        cast(aggregated.window_revenue_holdout as decimal(18, 4)) as window_revenue_holdout,
        cast(aggregated.window_revenue_squared_targeted as decimal(38, 8)) as window_revenue_squared_targeted,
        cast(aggregated.window_revenue_squared_holdout as decimal(38, 8)) as window_revenue_squared_holdout,
        cast(aggregated.message_cost as decimal(18, 4)) as message_cost,
        cast(aggregated.attributed_reactivations as bigint) as attributed_reactivations

    from aggregated
    left join campaigns
        on aggregated.campaign_id = campaigns.campaign_id

)

select * from final
