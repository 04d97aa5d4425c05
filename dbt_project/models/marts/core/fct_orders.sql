{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where order_id not in (select orders.order_id from {{ ref('int_orders_attributed') }} as orders)",
    )
}}

with

orders as (

    select * from {{ ref('int_orders_attributed') }}

),

-- incremental: rebuild every order whose latest version, contact, fx rate or sibling order
-- (first-order flag) was loaded after the newest load already in the table, minus a lookback;
-- everything when the table was built with another reporting currency or timezone
changed_orders as (

    select orders.*
    from orders
    {% if is_incremental() %}
        where
            orders.inputs_loaded_at > (
                select
                    coalesce(
                        {{ dbt.dateadd('day', -1 * var('fct_orders_lookback_days'), 'max(existing.inputs_loaded_at)') }},
                        cast('1900-01-01' as timestamp)
                    ) as rebuild_loaded_after
                from {{ this }} as existing
            )
            or exists (
                select 1
                from {{ this }} as existing
                where
                    existing.reporting_currency != '{{ var("reporting_currency") | upper }}'
                    or existing.reporting_timezone != '{{ var("reporting_timezone") }}'
            )
    {% endif %}

),

final as (

    select
        changed_orders.order_id,
        changed_orders.customer_id,
        changed_orders.is_guest,
        changed_orders.is_known_contact,
        changed_orders.order_date,
        changed_orders.order_month,
        changed_orders.created_at,
        changed_orders.updated_at,
        changed_orders.status,
        changed_orders.is_valid,
        changed_orders.is_revenue_counted,
        changed_orders.is_first_order,
        changed_orders.currency,
        changed_orders.gross_amount_local,
        changed_orders.discount_amount_local,
        changed_orders.refund_amount_local,
        changed_orders.fx_rate,
        changed_orders.net_revenue,
        '{{ var("reporting_currency") | upper }}' as reporting_currency,
        '{{ var("reporting_timezone") }}' as reporting_timezone,
        changed_orders.channel,
        changed_orders.campaign,
        changed_orders.source_batch_id,
        changed_orders.source_batch_day,
        changed_orders.source_file,
        changed_orders.source_line,
        changed_orders.inputs_loaded_at

    from changed_orders

)

select * from final
