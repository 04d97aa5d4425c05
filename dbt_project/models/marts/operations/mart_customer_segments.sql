{%- set segments = ['new', 'reactivated', 'active', 'at_risk', 'lapsed'] -%}

with

segments as (

    select * from {{ ref('int_customer_segments_dated') }}

),

-- per channel first; `all` is then the sum over the channels: a customer counts once in its
-- first-touch channel and once in `all`, so `all` adds up the channels' sums (exact: counts and
-- decimals; one pass over the customer rows, not a second one over a copy of them);
-- net_revenue_last_90d: each customer's net revenue of d - 89 ... d (int_customer_segments_dated)
channel_totals as (

    select
        segments.segment_date,
        segments.channel,
        segments.segment,
        count(*) as customers,
        sum(segments.net_revenue_last_90d) as net_revenue_last_90d,
        sum(case when segments.previous_segment = '(none)' then 1 else 0 end) as from_none,
        {% for segment in segments -%}
            sum(case when segments.previous_segment = '{{ segment }}' then 1 else 0 end)
                as from_{{ segment }}{% if not loop.last %},{% endif %}
        {% endfor %}

    from segments
    group by segments.segment_date, segments.channel, segments.segment

),

totals as (

    select * from channel_totals

    union all

    select
        channel_totals.segment_date,
        'all' as channel,
        channel_totals.segment,
        sum(channel_totals.customers) as customers,
        sum(channel_totals.net_revenue_last_90d) as net_revenue_last_90d,
        sum(channel_totals.from_none) as from_none,
        {% for segment in segments -%}
            sum(channel_totals.from_{{ segment }}) as from_{{ segment }}{% if not loop.last %},{% endif %}
        {% endfor %}

    from channel_totals
    group by channel_totals.segment_date, channel_totals.segment

),

segment_dates as (

    select distinct
        segments.segment_month,
        segments.segment_date,
        segments.is_complete

    from segments

),

channels as (

    select distinct totals.channel
    from totals

),

segment_names as (

    select 'new' as segment
    union all
    select 'reactivated' as segment
    union all
    select 'active' as segment
    union all
    select 'at_risk' as segment
    union all
    select 'lapsed' as segment

),

-- every month-end x segment x channel: 0 when nobody is in the segment
final as (

    select
        segment_dates.segment_month,
        segment_dates.segment_date,
        segment_names.segment,
        channels.channel,
        segment_dates.is_complete,
        cast(coalesce(totals.customers, 0) as bigint) as customers,
        cast(coalesce(totals.net_revenue_last_90d, 0) as decimal(18, 4)) as net_revenue_last_90d,
        cast(coalesce(totals.from_none, 0) as bigint) as from_none,
        {% for segment in segments -%}
            cast(coalesce(totals.from_{{ segment }}, 0) as bigint) as from_{{ segment }},
        {% endfor -%}
        '{{ var("reporting_currency") | upper }}' as reporting_currency

    from segment_dates
    cross join segment_names
    cross join channels
    left join totals
        on
            segment_dates.segment_date = totals.segment_date
            and segment_names.segment = totals.segment
            and channels.channel = totals.channel

)

select * from final
