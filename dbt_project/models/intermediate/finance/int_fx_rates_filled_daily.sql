{%- set reporting_currency = var('reporting_currency') | upper -%}

{#-
    Every relation money is converted from, with the column that dates its rows: the rate grid runs
    from the first to the last day any of them (or a rate) falls on. A UTC timestamp's day is its
    calendar day in the reporting timezone, as in the conversions downstream.
-#}
{%- set converted_relations = [
    {'name': 'orders', 'model': 'stg_orders__orders', 'day': 'created_at', 'is_timestamp': true},
    {'name': 'campaign_days', 'model': 'stg_channel__campaign_days', 'day': 'report_date', 'is_timestamp': false},
    {'name': 'costs', 'model': 'stg_costs__costs', 'day': 'cost_date', 'is_timestamp': false},
    {'name': 'messages', 'model': 'stg_messages__sends', 'day': 'sent_at', 'is_timestamp': true},
] -%}

with

rates as (

    select * from {{ ref('stg_fx__rates') }}

),
{% for relation in converted_relations %}
    {{ relation.name }} as (

        select * from {{ ref(relation.model) }}

    ),
{% endfor %}
-- from the first to the last day anything is converted on (orders, ad spend, costs, message costs, rates)
bounds_by_source as (
    {% for relation in converted_relations %}
        {%- set first_day = 'min(' ~ relation.name ~ '.' ~ relation.day ~ ')' %}
        {%- set last_day = 'max(' ~ relation.name ~ '.' ~ relation.day ~ ')' %}
        {%- if relation.is_timestamp %}
            {%- set first_day = growthops.to_reporting_date(first_day) %}
            {%- set last_day = growthops.to_reporting_date(last_day) %}
        {%- endif %}
        select
            {{ first_day }} as first_day,
            {{ last_day }} as last_day

        from {{ relation.name }}

        union all
    {% endfor %}
    select
        min(rates.rate_date) as first_day,
        max(rates.rate_date) as last_day

    from rates

),

calendar as (

    {{ growthops.days_spanned('bounds_by_source', 'first_day', 'last_day', 'rate_day') }}

),

-- USD has rate 1 by definition; the reporting currency must be in the grid even without rates
currencies as (

    select rates.currency
    from rates

    union

    select 'USD' as currency

    union

    select '{{ reporting_currency }}' as currency

),

grid as (

    select
        calendar.rate_day,
        currencies.currency

    from calendar
    cross join currencies

),

-- the newest load of any rate dated on the day: a day's fx file loaded again (re-delivered) may
-- have withdrawn a currency's rate, whose day then takes an older rate with its older load time
days_loaded as (

    select
        rates.rate_date,
        max(rates.source_loaded_at) as day_loaded_at

    from rates
    group by rates.rate_date

),

observed as (

    select
        grid.rate_day,
        grid.currency,
        rates.rate_date,
        rates.usd_rate,
        rates.source_loaded_at,
        days_loaded.day_loaded_at,
        -- the n-th rate of the currency seen so far: days sharing it use the same (latest) rate
        count(rates.usd_rate) over (
            partition by grid.currency
            order by grid.rate_day
            rows between unbounded preceding and current row
        ) as rate_sequence

    from grid
    left join rates
        on
            grid.currency = rates.currency
            and grid.rate_day = rates.rate_date
    left join days_loaded
        on grid.rate_day = days_loaded.rate_date

),

-- as-of rule: the latest rate on or before the day (none before the first rate of a currency)
as_of as (

    select
        observed.rate_day,
        observed.currency,
        max(observed.rate_date) over (
            partition by observed.currency, observed.rate_sequence
        ) as rate_date,
        -- the cast keeps decimal(18, 8) on PostgreSQL, where an aggregate drops the scale
        cast(max(observed.usd_rate) over (
            partition by observed.currency, observed.rate_sequence
        ) as decimal(18, 8)) as usd_rate,
        -- the newest load of the rate and of every day it covers (DECISIONLOG 79): the days a
        -- withdrawn rate covered are converted again with the older rate that now covers them;
        -- none before a currency's first rate
        case
            when observed.rate_sequence > 0
                then max(greatest(observed.source_loaded_at, observed.day_loaded_at)) over (
                    partition by observed.currency, observed.rate_sequence
                )
        end as source_loaded_at

    from observed

),

usd_defined as (

    select
        as_of.rate_day,
        as_of.currency,
        case when as_of.currency = 'USD' then null else as_of.rate_date end as rate_date,
        case
            when as_of.currency = 'USD' then cast(1 as decimal(18, 8))
            else as_of.usd_rate
        end as usd_rate,
        case when as_of.currency = 'USD' then null else as_of.source_loaded_at end as source_loaded_at

    from as_of

),

reporting_currency_rates as (

    select
        usd_defined.rate_day,
        usd_defined.usd_rate,
        usd_defined.source_loaded_at

    from usd_defined
    where usd_defined.currency = '{{ reporting_currency }}'

),

-- cross rate of SPEC §2: usd_rate(currency) / usd_rate(reporting currency), each as of the day
cross_rates as (

    select
        usd_defined.rate_day,
        usd_defined.currency,
        '{{ reporting_currency }}' as reporting_currency,
        usd_defined.rate_date,
        usd_defined.usd_rate,
        reporting_currency_rates.usd_rate as reporting_currency_usd_rate,
        case
            when usd_defined.currency = '{{ reporting_currency }}' then cast(1 as decimal(18, 10))
            else cast(
                cast(usd_defined.usd_rate as double precision)
                / cast(reporting_currency_rates.usd_rate as double precision)
                as decimal(18, 10)
            )
        end as to_reporting_rate,
        greatest(usd_defined.source_loaded_at, reporting_currency_rates.source_loaded_at) as source_loaded_at

    from usd_defined
    inner join reporting_currency_rates
        on usd_defined.rate_day = reporting_currency_rates.rate_day

)

select * from cross_rates
