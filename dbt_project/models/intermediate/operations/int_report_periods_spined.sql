with

orders as (

    select * from {{ ref('int_orders_converted') }}

),

-- every day from the data's first order date to its as-of date (the latest order date loaded,
-- any status)
days as (

    {{ growthops.days_spanned('orders', 'order_date', 'order_date', 'report_date') }}

),

-- every loaded day falls in one ISO week (keyed by its Monday) and one calendar month
day_periods as (

    select
        grains.period_grain,
        case grains.period_grain
            when 'week' then {{ growthops.week_start('days.report_date') }}
            else {{ growthops.month_start('days.report_date') }}
        end as period_start,
        days.report_date,
        max(days.report_date) over () as as_of_date

    from days
    cross join (values ('week'), ('month')) as grains (period_grain)

),

-- a period closes on its last day, or on the as-of date in the period of the as-of date
periods as (

    select
        day_periods.period_grain,
        day_periods.period_start,
        max(day_periods.report_date) as closing_date,
        max(day_periods.as_of_date) as as_of_date

    from day_periods
    group by day_periods.period_grain, day_periods.period_start

),

period_ends as (

    select
        periods.period_grain,
        periods.period_start,
        case periods.period_grain
            when 'week' then {{ growthops.add_days('periods.period_start', '6') }}
            else {{ growthops.month_end('periods.period_start') }}
        end as period_end,
        periods.closing_date,
        periods.as_of_date

    from periods

),

final as (

    select
        period_ends.period_grain,
        period_ends.period_start,
        period_ends.period_end,
        period_ends.closing_date,
        period_ends.period_start = min(period_ends.period_start) over (partition by period_ends.period_grain)
            as is_first_period,
        period_ends.period_end <= period_ends.as_of_date as is_complete,
        period_ends.as_of_date

    from period_ends

)

select * from final
