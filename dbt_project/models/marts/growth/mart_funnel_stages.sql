with

contacts as (

    select * from {{ ref('int_contacts_attributed') }}

),

contact_orders as (

    select * from {{ ref('int_contact_orders_aggregated') }}

),

signups as (

    select
        contacts.signup_month,
        contacts.channel,
        contacts.is_engaged,
        coalesce(contact_orders.valid_orders_count, 0) as valid_orders_count

    from contacts
    left join contact_orders
        on contacts.contact_id = contact_orders.customer_id

),

stages as (

    select
        signups.signup_month,
        signups.channel,
        cast(count(*) as bigint) as signups,
        cast(sum(case when signups.is_engaged then 1 else 0 end) as bigint) as engaged,
        cast(sum(case when signups.valid_orders_count >= 1 then 1 else 0 end) as bigint) as customers,
        cast(sum(case when signups.valid_orders_count >= 2 then 1 else 0 end) as bigint) as repeat_customers

    from signups
    group by signups.signup_month, signups.channel

),

final as (

    select
        stages.signup_month,
        stages.channel,
        stages.signups,
        stages.engaged,
        stages.customers,
        stages.repeat_customers,
        {{ growthops.safe_divide('stages.engaged', 'stages.signups') }} as engaged_rate,
        {{ growthops.safe_divide('stages.customers', 'stages.signups') }} as customer_rate,
        {{ growthops.safe_divide('stages.repeat_customers', 'stages.customers') }} as repeat_rate

    from stages

)

select * from final
