{%- set ltv_periods = [0, 1, 3, 6, 12] -%}
{%- set ratio_periods = [3, 6, 12] -%}

with

funnel as (

    select * from {{ ref('mart_channel_funnel_daily') }}

),

cohorts as (

    select * from {{ ref('mart_cohort_retention') }}

),

as_of as (

    select * from {{ ref('int_as_of_dates_identified') }}

),

-- spend of the month: ads + acquisition costs on the days it is known (null days are unknown);
-- the new customers acquired on days of unknown spend are counted apart
channel_months as (

    select
        {{ growthops.month_start('funnel.report_date') }} as acquisition_month,
        funnel.channel,
        sum(funnel.spend) as spend,
        sum(funnel.new_customers) as new_customers,
        sum(case when funnel.spend is null then funnel.new_customers else 0 end) as new_customers_unknown_spend

    from funnel
    group by {{ growthops.month_start('funnel.report_date') }}, funnel.channel

),

-- `all`: the sum of the known spend of every channel, blended over their customers of known spend
months as (

    select * from channel_months

    union all

    select
        channel_months.acquisition_month,
        'all' as channel,
        {{ growthops.sum_columns('channel_months', ['spend', 'new_customers', 'new_customers_unknown_spend']) }}

    from channel_months
    group by channel_months.acquisition_month

),

costed as (

    select
        months.acquisition_month,
        months.channel,
        {{ growthops.month_end('months.acquisition_month') }} <= as_of.as_of_date as is_complete,
        cast(months.spend as decimal(18, 4)) as spend,
        cast(months.new_customers as bigint) as new_customers,
        cast(months.new_customers_unknown_spend as bigint) as new_customers_unknown_spend,
        {{ growthops.money_divide('months.spend', 'months.new_customers - months.new_customers_unknown_spend') }}
            as cac,
        as_of.as_of_date

    from months
    cross join as_of

),

-- ltv at month k = cumulative net revenue through months_since_first_order = k / new customers;
-- mature only once the month cohort_month + k is complete
mature_periods as (

    select
        cohorts.cohort_month,
        cohorts.channel,
        cohorts.months_since_first_order,
        cohorts.ltv_per_customer

    from cohorts
    cross join as_of
    where
        {{ growthops.month_end(growthops.add_months('cohorts.cohort_month', 'cohorts.months_since_first_order')) }}
        <= as_of.as_of_date

),

ltv as (

    select
        mature_periods.cohort_month,
        mature_periods.channel,
        {% for k in ltv_periods -%}
            max(case when mature_periods.months_since_first_order = {{ k }} then mature_periods.ltv_per_customer end)
                as ltv_{{ k }}{% if not loop.last %},{% endif %}
        {% endfor %}

    from mature_periods
    group by mature_periods.cohort_month, mature_periods.channel

),

-- payback: the first mature month k (0 = the acquisition month) whose ltv reaches a positive cac
payback as (

    select
        costed.acquisition_month,
        costed.channel,
        min(mature_periods.months_since_first_order) as payback_month

    from costed
    inner join mature_periods
        on
            costed.acquisition_month = mature_periods.cohort_month
            and costed.channel = mature_periods.channel
    where
        costed.cac > 0
        and mature_periods.ltv_per_customer >= costed.cac
    group by costed.acquisition_month, costed.channel

),

final as (

    select
        costed.acquisition_month,
        costed.channel,
        costed.is_complete,
        costed.spend,
        costed.new_customers,
        costed.new_customers_unknown_spend,
        costed.cac,
        {% for k in ltv_periods -%}
            cast(ltv.ltv_{{ k }} as decimal(18, 4)) as ltv_{{ k }},
        {% endfor -%}
        {% for k in ratio_periods -%}
            {{ growthops.safe_divide('ltv.ltv_' ~ k, 'costed.cac') }} as ltv_to_cac_{{ k }},
        {% endfor -%}
        cast(payback.payback_month as integer) as payback_month,
        costed.as_of_date,
        '{{ var("reporting_currency") | upper }}' as reporting_currency

    from costed
    left join ltv
        on
            costed.acquisition_month = ltv.cohort_month
            and costed.channel = ltv.channel
    left join payback
        on
            costed.acquisition_month = payback.acquisition_month
            and costed.channel = payback.channel

)

select * from final
