{%- set windows = [7, 30, 90] -%}

with

contacts as (

    select * from {{ ref('int_contacts_attributed') }}

),

contact_orders as (

    select * from {{ ref('int_contact_orders_aggregated') }}

),

stage_changes as (

    select * from {{ ref('int_contact_stages_changed') }}

),

as_of as (

    select * from {{ ref('int_as_of_dates_identified') }}

),

-- engaged = reached mql, sql, opportunity or customer in the CRM stage history (every loaded
-- version), on the day of the first such change
engagements as (

    select
        stage_changes.contact_id,
        min(stage_changes.changed_date) as engaged_date

    from stage_changes
    where stage_changes.is_engaged_stage
    group by stage_changes.contact_id

),

signups as (

    select
        contacts.signup_month,
        contacts.channel,
        engagements.engaged_date is not null as is_engaged,
        coalesce(contact_orders.valid_orders_count, 0) as valid_orders_count,
        {{ growthops.days_between('contacts.signup_date', 'contact_orders.first_valid_order_date') }}
            as days_to_first_order,
        {{ growthops.days_between('contacts.signup_date', 'engagements.engaged_date') }} as days_to_engaged,
        {{ growthops.days_between('engagements.engaged_date', 'contact_orders.first_valid_order_date') }}
            as days_engaged_to_first_order

    from contacts
    left join contact_orders
        on contacts.contact_id = contact_orders.customer_id
    left join engagements
        on contacts.contact_id = engagements.contact_id

),

stages as (

    select
        signups.signup_month,
        signups.channel,
        cast(count(*) as bigint) as signups,
        cast(sum(case when signups.is_engaged then 1 else 0 end) as bigint) as engaged,
        cast(sum(case when signups.valid_orders_count >= 1 then 1 else 0 end) as bigint) as customers,
        cast(sum(case when signups.valid_orders_count >= 2 then 1 else 0 end) as bigint) as repeat_customers,
        {% for n in windows -%}
            cast(sum(case when signups.days_to_first_order <= {{ n }} then 1 else 0 end) as bigint)
                as customers_within_{{ n }}d_to_date,
        {% endfor -%}
        -- medians over the contacts that reached the stage within 90 days
        {{ growthops.median('case when signups.days_to_engaged <= 90 then signups.days_to_engaged end') }}
            as median_days_to_engaged,
        {{ growthops.median(
            'case when signups.days_engaged_to_first_order between 0 and 90 then signups.days_engaged_to_first_order end'
        ) }} as median_days_engaged_to_first_order,
        {{ growthops.median('case when signups.days_to_first_order <= 90 then signups.days_to_first_order end') }}
            as median_days_to_first_order

    from signups
    group by signups.signup_month, signups.channel

),

-- a window of N days is mature once the signup month's last day + N <= the as-of date
matured as (

    select
        stages.*,
        {% for n in windows -%}
            {{ growthops.add_days(growthops.month_end('stages.signup_month'), n) }} <= as_of.as_of_date
                as is_mature_{{ n }}d,
        {% endfor -%}
        {{ growthops.add_days(growthops.month_end('stages.signup_month'), 180) }} <= as_of.as_of_date
            as is_mature_180d

    from stages
    cross join as_of

),

final as (

    select
        matured.signup_month,
        matured.channel,
        matured.signups,
        matured.engaged,
        matured.customers,
        matured.repeat_customers,
        {{ growthops.safe_divide('matured.engaged', 'matured.signups') }} as engaged_rate,
        {{ growthops.safe_divide('matured.customers', 'matured.signups') }} as customer_rate,
        {{ growthops.safe_divide('matured.repeat_customers', 'matured.customers') }} as repeat_rate,
        {% for n in windows -%}
            case when matured.is_mature_{{ n }}d then matured.customers_within_{{ n }}d_to_date end
                as customers_within_{{ n }}d,
        {% endfor -%}
        case when matured.is_mature_90d then matured.median_days_to_engaged end as median_days_to_engaged,
        case when matured.is_mature_180d then matured.median_days_engaged_to_first_order end
            as median_days_engaged_to_first_order,
        case when matured.is_mature_90d then matured.median_days_to_first_order end as median_days_to_first_order

    from matured

)

select * from final
