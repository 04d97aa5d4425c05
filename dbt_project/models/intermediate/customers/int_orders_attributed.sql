{#- a table built before the contact lineage (no contact_batch_id) is read as no previous build
    (macros/stored_table.sql) -#}
{%- set incremental = growthops.stored_table_has(['contact_batch_id']) -%}

with

orders as not materialized (

    select * from {{ ref('int_orders_converted') }}

),

contacts as not materialized (

    select * from {{ ref('int_contacts_attributed') }}

),

{% if incremental %}
    -- incremental: a customer's orders from the earliest position (created_at) a change can reach:
    -- the order number, first-order flag and inputs_loaded_at of an order depend only on the
    -- customer's orders created at or before it (DECISIONLOG 58). Guest orders when their own
    -- inputs were loaded; everything when the reporting currency or timezone changed
    rebuild_window as (

        select {{ growthops.rebuild_loaded_after('inputs_loaded_at') }} as rebuild_loaded_after

    ),

    reloaded_orders as (

        select
            orders.order_id,
            orders.contact_id,
            orders.created_at

        from orders
        cross join rebuild_window
        where orders.inputs_loaded_at > rebuild_window.rebuild_loaded_after

    ),

    -- the stored orders whose batch left upstream: vanished, or an older version is the latest
    -- again (DECISIONLOG 76); found once for the three readers below
    rebatched_orders as materialized (

        {{ growthops.rebatched_rows(ref('int_orders_converted')) }}

    ),

    -- where each change sits in its customer's order history: an order loaded after the window
    -- (its new and its previous customer and time: a restated order can move), an order whose
    -- batch left upstream (its previous place, and its current one: an older version is the
    -- latest now, DECISIONLOG 76; or it vanished), a re-exported contact (from the beginning), a
    -- contact whose version's batch left the CRM contacts (gone, or an older version is the latest
    -- again, with its older load time: from the beginning, DECISIONLOG 78)
    change_positions as (

        select
            reloaded_orders.contact_id as customer_id,
            reloaded_orders.created_at

        from reloaded_orders
        where reloaded_orders.contact_id is not null

        union all

        select
            orders.contact_id as customer_id,
            orders.created_at

        from orders
        where
            orders.contact_id is not null
            and orders.order_id in (select rebatched_orders.order_id from rebatched_orders)

        union all

        select
            previous_build.customer_id,
            previous_build.created_at

        from {{ this }} as previous_build
        where
            previous_build.customer_id is not null
            and (
                previous_build.order_id in (select reloaded_orders.order_id from reloaded_orders)
                or previous_build.order_id in (select rebatched_orders.order_id from rebatched_orders)
            )

        union all

        select
            contacts.contact_id as customer_id,
            cast('1900-01-01' as timestamp) as created_at

        from contacts
        cross join rebuild_window
        where contacts.source_loaded_at > rebuild_window.rebuild_loaded_after

        union all

        select
            contact_moved.customer_id,
            cast('1900-01-01' as timestamp) as created_at

        from ({{ growthops.contact_batch_left(ref('int_contacts_attributed'), 'source_batch_id') }}) as contact_moved

    ),

    changed_customers as (

        select
            change_positions.customer_id,
            min(change_positions.created_at) as rebuild_from

        from change_positions
        group by change_positions.customer_id

    ),
{% endif %}

-- every order of a changed customer (the order numbers are counted over all of them), changed
-- guest orders; everything on a full build
changed_orders as not materialized (

    {{ growthops.select_changed_orders(
        'inputs_loaded_at', 'contact_id', 'select changed_customers.customer_id from changed_customers',
        'select rebatched_orders.order_id from rebatched_orders' if incremental else none,
        incremental,
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
        contacts.source_loaded_at as contact_loaded_at,
        contacts.source_batch_id as contact_batch_id

    from changed_orders
    left join contacts
        on changed_orders.contact_id = contacts.contact_id

),

-- first order = the customer's earliest valid order by created_at (ties: lowest order_id); one
-- window over the key columns only (a DuckDB window does not spill: over whole order rows it
-- needed ~4 GB at 10M orders), joined back by order_id. customer_orders_loaded_at is the newest
-- load among the customer's orders up to this one: what its number and flag are computed from
customer_positions as (

    select
        attributed.order_id,
        case
            when attributed.is_valid
                then count(*) filter (where attributed.is_valid) over customer_history
        end as valid_order_number,
        max(attributed.source_loaded_at) over customer_history as customer_orders_loaded_at

    from attributed
    where attributed.customer_id is not null
    window customer_history as (
        partition by attributed.customer_id
        order by attributed.created_at asc, attributed.order_id asc
        rows between unbounded preceding and current row
    )

),

sequenced as (

    select
        attributed.*,
        customer_positions.valid_order_number,
        customer_positions.customer_orders_loaded_at

    from attributed
    left join customer_positions
        on attributed.order_id = customer_positions.order_id
    {%- if incremental %}
        left join changed_customers
            on attributed.customer_id = changed_customers.customer_id
        -- a customer's orders before its earliest change keep their rows
        where attributed.customer_id is null or attributed.created_at >= changed_customers.rebuild_from
    {%- endif %}

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
        sequenced.contact_batch_id,
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
