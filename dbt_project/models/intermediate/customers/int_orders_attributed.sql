with

orders as not materialized (

    select * from {{ ref('int_orders_converted') }}

),

contacts as not materialized (

    select * from {{ ref('int_contacts_attributed') }}

),

{% if is_incremental() %}
    -- incremental: every order of a customer with an order, fx rate or contact loaded after the
    -- newest load already in the table minus the lookback, or with an order that vanished (the
    -- first-order flag and valid_order_number depend on all of the customer's orders); a guest
    -- order when its own inputs were; everything when the reporting currency or timezone changed
    rebuild_window as (

        select {{ growthops.rebuild_loaded_after('inputs_loaded_at') }} as rebuild_loaded_after

    ),

    changed_customers as (

        select orders.contact_id as customer_id
        from orders
        cross join rebuild_window
        where orders.inputs_loaded_at > rebuild_window.rebuild_loaded_after

        union

        select contacts.contact_id as customer_id
        from contacts
        cross join rebuild_window
        where contacts.source_loaded_at > rebuild_window.rebuild_loaded_after

        union

        {{ growthops.vanished_order_customers(ref('int_orders_converted')) }}

    ),
{% endif %}

changed_orders as not materialized (

    {{ growthops.select_changed_orders(
        'inputs_loaded_at', 'contact_id', 'select changed_customers.customer_id from changed_customers'
    ) }}

),

-- orders inherit their contact's first-touch attribution; guest orders and orders of
-- contacts unknown to the CRM are `unattributed`. Not materialized, like the CTEs above: the
-- order numbers and load times below read a few of its columns, and a materialized copy would
-- hold every column of every order in memory (DECISIONLOG 54)
attributed as not materialized (

    select
        changed_orders.*,
        changed_orders.contact_id as customer_id,
        changed_orders.contact_id is null as is_guest,
        contacts.contact_id is not null as is_known_contact,
        coalesce(contacts.channel, 'unattributed') as channel,
        case when contacts.contact_id is null then '(none)' else contacts.campaign end as campaign,
        contacts.source_loaded_at as contact_loaded_at

    from changed_orders
    left join contacts
        on changed_orders.contact_id = contacts.contact_id

),

-- first order = the customer's earliest valid order by created_at (ties: lowest order_id); the
-- window ranks the key columns only (a DuckDB window does not spill: over whole order rows it
-- needed ~4 GB at 10M orders) and is joined back by order_id
valid_order_numbers as (

    select
        attributed.order_id,
        row_number() over (
            partition by attributed.customer_id
            order by attributed.created_at asc, attributed.order_id asc
        ) as valid_order_number

    from attributed
    where attributed.is_valid and attributed.customer_id is not null

),

customer_loads as (

    select
        attributed.customer_id,
        max(attributed.source_loaded_at) as customer_orders_loaded_at

    from attributed
    where attributed.customer_id is not null
    group by attributed.customer_id

),

sequenced as (

    select
        attributed.*,
        valid_order_numbers.valid_order_number,
        customer_loads.customer_orders_loaded_at

    from attributed
    left join valid_order_numbers
        on attributed.order_id = valid_order_numbers.order_id
    left join customer_loads
        on attributed.customer_id = customer_loads.customer_id

),

final as (

    select
        sequenced.order_id,
        sequenced.customer_id,
        sequenced.is_guest,
        sequenced.is_known_contact,
        sequenced.created_at,
        sequenced.updated_at,
        sequenced.order_date,
        sequenced.order_month,
        sequenced.status,
        sequenced.is_valid,
        sequenced.is_revenue_counted,
        coalesce(sequenced.valid_order_number = 1, false) as is_first_order,
        sequenced.valid_order_number,
        sequenced.currency,
        sequenced.gross_amount_local,
        sequenced.discount_amount_local,
        sequenced.refund_amount_local,
        sequenced.net_amount_local,
        sequenced.fx_rate,
        sequenced.net_revenue,
        sequenced.channel,
        sequenced.campaign,
        sequenced.source_batch_id,
        sequenced.source_batch_day,
        sequenced.source_file,
        sequenced.source_line,
        sequenced.source_loaded_at,
        -- newest load among everything this row is computed from (incremental watermark of fct_orders)
        greatest(
            sequenced.source_loaded_at,
            sequenced.contact_loaded_at,
            sequenced.fx_loaded_at,
            sequenced.customer_orders_loaded_at
        ) as inputs_loaded_at,
        sequenced.reporting_currency,
        sequenced.reporting_timezone

    from sequenced

)

select * from final
