{#- a table built before the contact lineage (no contact_batch_id) is read as no previous build
    (macros/stored_table.sql) -#}
{%- set incremental = growthops.stored_table_has(['contact_batch_id']) -%}

with

orders as (

    select * from {{ ref('int_orders_attributed') }}

),

{% if incremental %}
    -- incremental: rebuild every order whose latest version, contact, fx rate or earlier sibling
    -- order (first-order flag) was loaded after the newest load already in the table, minus a
    -- lookback, and the orders of customers with a vanished or restated (moved) order or a
    -- withdrawn contact version (DECISIONLOG 76, 78); everything
    -- when the table was built with another reporting currency or timezone
    rebuild_window as (

        select {{ growthops.rebuild_loaded_after('inputs_loaded_at') }} as rebuild_loaded_after

    ),
{% endif %}

changed_orders as (

    {{ growthops.select_changed_orders(
        'inputs_loaded_at', 'customer_id', growthops.moved_order_customers(ref('int_orders_attributed')),
        growthops.rebatched_rows(ref('int_orders_attributed')) if incremental else none,
        incremental,
    ) }}

),

-- the casts give every column its contract type already in the query: PostgreSQL's incremental
-- run compares the query's column types with the table's (text is not varchar there)
final as (

    select
        cast(changed_orders.order_id as varchar) as order_id,
        cast(changed_orders.customer_id as varchar) as customer_id,
        changed_orders.is_guest,
        changed_orders.is_known_contact,
        changed_orders.order_date,
        changed_orders.order_month,
        changed_orders.created_at,
        changed_orders.updated_at,
        cast(changed_orders.status as varchar) as status,
        changed_orders.is_valid,
        changed_orders.is_revenue_counted,
        changed_orders.is_first_order,
        cast(changed_orders.currency as varchar) as currency,
        changed_orders.gross_amount_local,
        changed_orders.discount_amount_local,
        changed_orders.refund_amount_local,
        changed_orders.fx_rate,
        cast(changed_orders.net_revenue as decimal(18, 4)) as net_revenue,
        cast('{{ var("reporting_currency") | upper }}' as varchar) as reporting_currency,
        cast('{{ var("reporting_timezone") }}' as varchar) as reporting_timezone,
        changed_orders.channel,
        cast(changed_orders.campaign as varchar) as campaign,
        cast(changed_orders.source_batch_id as varchar) as source_batch_id,
        changed_orders.source_batch_day,
        cast(changed_orders.source_file as varchar) as source_file,
        changed_orders.source_line,
        cast(changed_orders.contact_batch_id as varchar) as contact_batch_id,
        changed_orders.inputs_loaded_at

    from changed_orders

)

select * from final
