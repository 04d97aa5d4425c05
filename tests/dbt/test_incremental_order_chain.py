"""Every incremental model of the order chain, after a new day of late updates, equals a full
refresh row for row, and each incremental run rebuilt only the rows the updates touch.

The chain int_orders_converted -> int_orders_attributed -> fct_orders is built on its own landing
in two loads (lookback 0, EUR, Asia/Tokyo: ``ORACLE_VARS``). The second load brings the later days
and late updates: those of ``dbt_late_updates`` (a refunded first order, a contact exported after
its orders, an fx day re-delivered with a corrected rate) and those of ``dbt_chain_updates``: an existing
customer's contact re-exported with another first touch (its orders change channel), an orders
file re-delivered without one first order (the order vanishes; the customer's next valid order
becomes the first), another without one order's newest version (its older version, with its
older load time, is the latest again: DECISIONLOG 76), and two first orders restated: one to a time after its customer's second
order, one to another customer (either way the customer's second order becomes the first, with
no new load time of its own). Re-delivered files also withdraw, with no new load time of what they
change: a contact (its orders are unattributed now), a contact's newer first touch that the first
load had (an older version is the latest again: DECISIONLOG 78), and a day's EUR rate (the day takes
the day before's: DECISIONLOG 79). The chain then runs one model at a time; before each model runs, its
compiled incremental select is run on the warehouse: the orders that run rebuilds.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import ORACLE_VARS, generated_settings, ingest
from dbt_chain_updates import (
    END,
    SCALE,
    SEED,
    SPLIT,
    START,
    ChainUpdates,
    add_a_later_first_touch,
    drop_rows,
    landing_query,
    move_a_first_touch,
    restate_first_orders,
    withdraw_a_contact,
    withdraw_a_first_order,
    withdraw_a_newer_version,
    withdraw_a_rate,
)
from dbt_helpers import explain, put_back, run_dbt
from dbt_late_updates import write_late_updates
from dbt_order_chain import CHAIN, chain_table, compiled_sql


def _dbt(warehouse: Path, args: list[str], work: Path, vars: dict = ORACLE_VARS) -> None:
    run = run_dbt(warehouse, args, work_dir=work, vars=vars)
    assert run.success, explain(run)


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _rebuild_set(warehouse: Path, work: Path, model: str) -> set[str]:
    """The order_ids the compiled (incremental) select of ``model`` returns on the warehouse now."""
    sql = compiled_sql(work, model)
    assert "rebuild_loaded_after" in sql, f"{model} was not compiled incrementally"
    return {r[0] for r in _query(warehouse, f"select order_id from ({sql}) as rebuild")}


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> dict:
    settings = generated_settings(tmp_path_factory, "chain", START, END, SCALE, SEED)
    landing, warehouse = Path(settings.landing_dir), settings.warehouse_path
    work = tmp_path_factory.mktemp("chain_dbt")
    touched, touched_day = add_a_later_first_touch(landing)
    ingest(settings, START, SPLIT)
    _dbt(warehouse, ["seed"], work)
    _dbt(warehouse, ["run", "--select", "+fct_orders"], work)
    first_watermark = _query(
        warehouse, "select max(inputs_loaded_at) from intermediate.int_orders_converted"
    )[0][0]
    first_touch = _query(
        warehouse, "select distinct channel, campaign from marts.fct_orders where customer_id = ?", [touched]
    )

    late = write_late_updates(landing, END)
    vanished, vanished_contact, vanished_day, promoted = withdraw_a_first_order(landing, late, touched)
    moved = move_a_first_touch(landing, late, taken=vanished_contact)
    restated, new_owner = restate_first_orders(
        landing, late, {vanished_contact, moved, late.new_contact_id, late.restaged_contact_id, touched}
    )
    taken = {vanished_contact, moved, late.new_contact_id, late.restaged_contact_id, new_owner, touched}
    taken |= {order for pair in restated.values() for order in pair}
    rebatched, rebatched_day, older_status = withdraw_a_newer_version(landing, taken, touched)
    taken |= {
        r[0] for r in landing_query(landing, "select contact_id from orders where order_id = ?", [rebatched])
    }
    # a customer none of whose orders anything else reloads or re-rates (the fx day, in any timezone)
    reloaded = {vanished_day, rebatched_day, *(late.fx_day + timedelta(days=d) for d in range(-2, 3))}
    rate_day = withdraw_a_rate(landing, reloaded)
    reloaded |= {rate_day + timedelta(days=d) for d in range(-1, 2)}
    gone, gone_day = withdraw_a_contact(landing, taken, reloaded)
    drop_rows(landing, "crm", touched_day, touched)  # its newer first touch withdrawn
    ingest(settings, SPLIT + timedelta(days=1), late.day)
    ingest(settings, late.fx_day, late.fx_day, sources=("fx",))  # the corrected file replaces the batch
    ingest(settings, rate_day, rate_day, sources=("fx",))
    for day in sorted({vanished_day, rebatched_day}):
        ingest(settings, day, day, sources=("orders",))
    for day in sorted({gone_day, touched_day}):
        ingest(settings, day, day, sources=("crm",))
    # the chain's inputs first; then the chain, one model at a time, each counted before it runs
    _dbt(warehouse, ["run", "--select", "+fct_orders", "--exclude", *CHAIN], work)
    _dbt(warehouse, ["compile", "--select", *CHAIN], work)
    rebuilt = {}
    for model in CHAIN:
        rebuilt[model] = _rebuild_set(warehouse, work, model)
        _dbt(warehouse, ["run", "--select", model], work)
    return {
        "warehouse": warehouse,
        "work": work,
        "updates": ChainUpdates(
            late,
            moved,
            vanished,
            vanished_day,
            promoted,
            restated,
            new_owner,
            (rebatched, older_status),
            gone,
            touched,
            rate_day,
        ),
        "first_watermark": first_watermark,
        "first_touch": first_touch,
        "rebuilt": rebuilt,
        "incremental": {model: chain_table(warehouse, model) for model in CHAIN},
    }


def test_every_incremental_model_equals_a_full_refresh(chain):
    warehouse = chain["warehouse"]
    with put_back(warehouse):
        _dbt(warehouse, ["run", "--select", *CHAIN, "--full-refresh"], chain["work"])
        refreshed = {model: chain_table(warehouse, model) for model in CHAIN}
    for model, incremental in chain["incremental"].items():
        full = refreshed[model]
        assert len(full) == len(incremental) > 500, model
        assert full == incremental, model


def test_every_incremental_run_rebuilt_only_part_of_its_table(chain):
    counts = {
        model: (len(rebuilt), len(chain["incremental"][model])) for model, rebuilt in chain["rebuilt"].items()
    }
    print("orders rebuilt / in the table:", counts)
    # int_orders_converted: exactly the orders whose latest version (new days, late status changes,
    # the re-delivered orders file) or fx rate came with the second load ...
    warehouse, watermark = chain["warehouse"], chain["first_watermark"]
    second_load = _query(
        warehouse,
        "select order_id from intermediate.int_orders_converted where inputs_loaded_at > ?",
        [watermark],
    )
    # ... and the order whose newest version was withdrawn: its older version's load time is old
    rebatched = chain["updates"].rebatched[0]
    assert chain["rebuilt"]["int_orders_converted"] == {r[0] for r in second_load} | {rebatched}
    assert rebatched not in {r[0] for r in second_load}
    # ... rates included: the re-delivered day and late-arriving rates (in Asia/Tokyo, an order of
    # the last UTC evening of the first load falls on a day whose rate came with the second load)
    rerated_days = _query(
        warehouse,
        """
        select distinct order_date from intermediate.int_orders_converted
        where fx_loaded_at > ? and source_loaded_at <= ? order by order_date
        """,
        [watermark, watermark],
    )
    assert len(rerated_days) >= 2 and (chain["updates"].late.fx_day,) in rerated_days
    assert 0 < counts["int_orders_converted"][0] < counts["int_orders_converted"][1] / 4
    # downstream also the orders whose contact was re-exported (most contacts of recent buyers:
    # lifecycle stage changes) and, in int_orders_attributed, every order of such a customer; still
    # at least a third of the orders is left as it was
    for model, (rebuilt, total) in counts.items():
        assert chain["rebuilt"]["int_orders_converted"] <= chain["rebuilt"][model], model
        assert 0 < rebuilt < total * 2 / 3, (model, rebuilt, total)


def test_the_rebuilt_orders_are_the_ones_the_updates_change(chain):
    updates: ChainUpdates = chain["updates"]
    warehouse, rebuilt = chain["warehouse"], chain["rebuilt"]
    fx_day_orders, new_contact_orders, moved_orders = (
        {
            r[0]
            for r in _query(warehouse, f"select order_id from marts.fct_orders where {column} = ?", [value])
        }
        for column, value in (
            ("order_date", updates.late.fx_day),
            ("customer_id", updates.late.new_contact_id),
            ("customer_id", updates.moved_contact_id),
        )
    )
    assert fx_day_orders and new_contact_orders and moved_orders
    # converted: the corrected rate re-converts its day; the refund is a new version
    assert fx_day_orders | {updates.late.refunded_first_order_id} <= rebuilt["int_orders_converted"]
    # attributed and fct_orders: also the orders whose own rows did not change but whose contact
    # (late export, new first touch) or sibling order (refunded, vanished first order) did
    downstream = fx_day_orders | new_contact_orders | moved_orders
    downstream |= {updates.late.promoted_order_id, updates.promoted_by_vanishing_id}
    # a restated first order's customer's second order: no load of its own, its flag still moves
    downstream |= {promoted for _, promoted in updates.restated.values()}
    for model in ("int_orders_attributed", "fct_orders"):
        assert downstream <= rebuilt[model], model
        assert updates.vanished_order_id not in {r[0] for r in chain["incremental"][model]}, model
    # the orders of a contact gone, or back to an older version, from a re-delivered CRM file: no
    # load of their own, nor of their contact, after the watermark (DECISIONLOG 78)
    contacts_orders = _query(
        warehouse,
        """
        select order_id, inputs_loaded_at from intermediate.int_orders_converted
        where contact_id in (?, ?)
        """,
        [updates.gone_contact_id, updates.withdrawn_touch_contact_id],
    )
    assert contacts_orders and all(loaded <= chain["first_watermark"] for _, loaded in contacts_orders)
    for model in ("int_orders_attributed", "fct_orders"):
        assert {order for order, _ in contacts_orders} <= rebuilt[model], model
    # the orders converted with a rate a re-delivered fx file withdrew (DECISIONLOG 79)
    withdrawn_rate_orders = _query(
        warehouse,
        "select order_id from intermediate.int_orders_converted where currency = 'USD' and order_date = ?",
        [updates.withdrawn_rate_day],
    )
    assert withdrawn_rate_orders
    assert {order for (order,) in withdrawn_rate_orders} <= rebuilt["int_orders_converted"]


def test_the_incremental_chain_carries_the_updates(chain):
    updates: ChainUpdates = chain["updates"]
    rows = {
        r[0]: r[1:]
        for r in _query(
            chain["warehouse"], "select order_id, is_first_order, channel, campaign from marts.fct_orders"
        )
    }
    assert rows[updates.promoted_by_vanishing_id][0] is True
    assert rows[updates.late.promoted_order_id][0] is True
    for how, (_, promoted) in updates.restated.items():
        assert rows[promoted][0] is True, how
    assert rows[updates.restated["to a later time"][0]][0] is False  # now its customer's second
    owners = _query(
        chain["warehouse"],
        "select customer_id from marts.fct_orders where order_id = ?",
        [updates.restated["to another customer"][0]],
    )
    assert owners == [(updates.new_owner_id,)]
    moved = _query(
        chain["warehouse"],
        "select distinct channel, campaign from marts.fct_orders where customer_id = ?",
        [updates.moved_contact_id],
    )
    assert moved == [("google_ads", updates.late.new_contact_campaign)]
    assert all(
        updates.vanished_order_id not in (r[0] for r in table) for table in chain["incremental"].values()
    )
    # the withdrawn newest version: every model of the chain is back to the older one
    order_id, older_status = updates.rebatched
    statuses = _query(
        chain["warehouse"], "select status from marts.fct_orders where order_id = ?", [order_id]
    )
    assert statuses == [(older_status,)]
    # the contact gone from the CRM: its orders are a customer's the CRM does not know, unattributed
    gone = _query(
        chain["warehouse"],
        "select distinct is_known_contact, channel, campaign from marts.fct_orders where customer_id = ?",
        [updates.gone_contact_id],
    )
    assert gone == [(False, "unattributed", "(none)")]
    # the withdrawn newer first touch: the first load attributed the orders to it; now the older
    # version is the contact's latest again, and so is its first touch
    assert chain["first_touch"] == [("google_ads", "withdrawn touch")]
    touched = _query(
        chain["warehouse"],
        """
        select distinct orders.channel, orders.campaign, contacts.channel, contacts.campaign
        from marts.fct_orders as orders
        inner join intermediate.int_contacts_attributed as contacts on orders.customer_id = contacts.contact_id
        where orders.customer_id = ?
        """,
        [updates.withdrawn_touch_contact_id],
    )
    assert len(touched) == 1 and touched[0][:2] == touched[0][2:] != ("google_ads", "withdrawn touch")
    # the day whose EUR rate was withdrawn: its USD orders are converted with the day before's rate
    rates = _query(
        chain["warehouse"],
        """
        select distinct rates.rate_date, orders.fx_rate = rates.to_reporting_rate
        from intermediate.int_orders_converted as orders
        inner join intermediate.int_fx_rates_filled_daily as rates
            on orders.currency = rates.currency and orders.order_date = rates.rate_day
        where orders.currency = 'USD' and orders.order_date = ?
        """,
        [updates.withdrawn_rate_day],
    )
    assert rates == [(None, True)]  # USD's own rate is 1: no rate date
    (eur_rate_date,) = _query(
        chain["warehouse"],
        "select rate_date from intermediate.int_fx_rates_filled_daily where currency = 'EUR' and rate_day = ?",
        [updates.withdrawn_rate_day],
    )[0]
    assert eur_rate_date == updates.withdrawn_rate_day - timedelta(days=1)


def test_an_order_added_after_a_customers_history_rebuilds_only_itself(chain):
    """Work proportional to change: a customer whose only changes are orders created after all
    its earlier ones (the everyday case) gets those orders rebuilt, and not its history."""
    warehouse, watermark = chain["warehouse"], chain["first_watermark"]
    appended = _query(
        warehouse,
        """
        with orders as (
            select contact_id, order_id, created_at, inputs_loaded_at > ? as reloaded
            from intermediate.int_orders_converted
            where contact_id is not null
        ),
        customers as (
            select contact_id
            from orders
            group by contact_id
            having bool_or(not reloaded) and bool_or(reloaded)
                and min(created_at) filter (where reloaded) > max(created_at) filter (where not reloaded)
        )
        select orders.order_id, orders.reloaded
        from orders
        where orders.contact_id in (select contact_id from customers)
            and orders.contact_id not in (
                select contact_id from intermediate.int_contacts_attributed where source_loaded_at > ?
            )
            -- nor an order withdrawn from a re-delivered file (it vanished, or its newest version)
            and orders.contact_id not in (
                select contact_id from intermediate.int_orders_converted
                where order_id in (select unnest(?::varchar[]))
            )
        """,
        [
            watermark,
            watermark,
            [chain["updates"].promoted_by_vanishing_id, chain["updates"].rebatched[0]],
        ],
    )
    updates: ChainUpdates = chain["updates"]
    restated = {order for pair in updates.restated.values() for order in pair}
    kept = {order for order, reloaded in appended if not reloaded} - restated
    added = {order for order, reloaded in appended if reloaded}
    assert len(kept) >= 10 and added, (len(kept), len(added))
    for model in ("int_orders_attributed", "fct_orders"):
        assert added <= chain["rebuilt"][model], model
        assert not kept & chain["rebuilt"][model], model


def test_a_reporting_currency_change_rebuilds_every_order(chain, tmp_path):
    _dbt(
        chain["warehouse"],
        ["compile", "--select", *CHAIN],
        tmp_path,
        vars={**ORACLE_VARS, "reporting_currency": "USD"},
    )
    for model in CHAIN:
        assert len(_rebuild_set(chain["warehouse"], tmp_path, model)) == len(chain["incremental"][model]), (
            model
        )


def test_the_attribution_guard_passes_the_chain_and_names_a_stale_order(chain):
    """`assert_order_attribution_matches_contacts` holds after the chain's incremental runs (the
    withdrawn contacts included), and names an order left with its contact's earlier attribution:
    the staleness no revenue total shows (DECISIONLOG 78)."""
    guard = ["test", "--select", "assert_order_attribution_matches_contacts"]
    warehouse, work = chain["warehouse"], chain["work"]
    assert run_dbt(warehouse, guard, work_dir=work, vars=ORACLE_VARS).statuses == {
        "assert_order_attribution_matches_contacts": "pass"
    }
    (stale,) = _query(
        warehouse,
        "select min(order_id) from marts.fct_orders where is_known_contact and channel <> 'email'",
    )[0]
    with put_back(warehouse):
        con = duckdb.connect(str(warehouse))
        con.execute("update marts.fct_orders set channel = 'email' where order_id = ?", [stale])
        con.close()
        run = run_dbt(warehouse, guard, work_dir=work, vars=ORACLE_VARS)
    assert run.failed() == {"assert_order_attribution_matches_contacts": "fail"}
    assert "Got 1 result" in run.messages["assert_order_attribution_matches_contacts"]
