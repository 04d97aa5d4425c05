"""Every incremental model (the latest-version staging models, the order chain, the messages, the customer segments)
built after late updates equals a full refresh, row for row (the shared warehouse; per-model rebuild counts and
more late cases: test_incremental_order_chain.py, test_incremental_staging.py)."""

from __future__ import annotations

import duckdb
import pytest
from conftest import ORACLE_VARS
from dbt_helpers import explain, put_back, release_duckdb, run_dbt
from dbt_order_chain import CHAIN, incremental_models, model_table

# what only the incremental branch of each kind of incremental model compiles
INCREMENTAL_BRANCH = {
    **{model: "rebuild_loaded_after" for model in CHAIN},
    "int_messages_converted": "rebuild_loaded_after",
    "int_customer_segments_dated": "stored_customers",
}


def test_second_build_was_incremental_and_not_everything_was_rebuilt(built_warehouse):
    # the second build ran the incremental branch (watermark filter or stored fingerprints +
    # delete+insert) of every incremental model: the latest-version staging models, the order
    # chain, the messages and the customer segments ...
    compiled = built_warehouse["second_incremental_sql"]
    assert set(INCREMENTAL_BRANCH) < set(compiled)
    for model, sql in compiled.items():
        assert INCREMENTAL_BRANCH.get(model, "restage_loaded_after") in sql, model
    # ... and the watermark left orders out: it was not a disguised full rebuild
    con = duckdb.connect(str(built_warehouse["path"]), read_only=True)
    cutoff = built_warehouse["first_watermark"]
    untouched, total = con.execute(
        "select count(*) filter (where inputs_loaded_at <= ?), count(*) from marts.fct_orders", [cutoff]
    ).fetchone()
    con.close()
    assert 0 < untouched < total


def test_incremental_run_caught_the_late_updates(built_warehouse):
    late = built_warehouse["late"]
    con = duckdb.connect(str(built_warehouse["path"]), read_only=True)
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            "select order_id, status, is_first_order, channel, campaign, customer_id from marts.fct_orders"
        ).fetchall()
    }
    new_contact_orders = con.execute(
        "select distinct channel, campaign from marts.fct_orders where customer_id = ?", [late.new_contact_id]
    ).fetchall()
    # orders of the re-delivered fx day are converted with the corrected EUR rate (the newest file)
    fx_check = con.execute(
        """
        with rates as (
            select currency, usd_rate, _loaded_at,
                   row_number() over (partition by currency order by _loaded_at desc) as newest
            from raw.fx_rates where date = $day
        ),
        -- the re-delivered batch replaced the original one, whose EUR rate was 2 % lower
        eur as (
            select usd_rate as new_rate, usd_rate / 1.02 as old_rate
            from rates where currency = 'EUR' and newest = 1
        )
        select count(*),
               max(abs(cast(o.fx_rate as double) - r.usd_rate / eur.new_rate)),
               min(abs(cast(o.fx_rate as double) - r.usd_rate / eur.old_rate))
        from marts.fct_orders as o
        join rates as r on o.currency = r.currency and r.newest = 1
        cross join eur
        where o.order_date = $day and o.currency = 'USD'
        """,
        {"day": late.fx_day},
    ).fetchone()
    con.close()
    # a refunded first order: no longer first, the customer's second valid order is
    assert rows[late.refunded_first_order_id][:2] == ("refunded", False)
    assert rows[late.promoted_order_id][1] is True
    # a contact exported after its orders: the orders are attributed to it now
    assert new_contact_orders == [("google_ads", late.new_contact_campaign)]
    orders_that_day, error_vs_corrected, error_vs_original = fx_check
    assert orders_that_day > 0
    assert error_vs_corrected < 1e-9 < error_vs_original


def test_every_incremental_model_is_covered(built_warehouse, dbt_work_dir):
    names = {m.name for m in incremental_models(dbt_work_dir)}
    assert (
        set(INCREMENTAL_BRANCH) | {"stg_orders__orders", "stg_crm__contacts", "stg_messages__sends"} <= names
    )


SEGMENTS = "intermediate.int_customer_segments_dated"


def _run_model(warehouse, dbt_work_dir, model: str, table: str, order_by: str, *flags: str) -> list[tuple]:
    """``dbt run`` of one model on the warehouse as it is (``flags``: e.g. ``--full-refresh``); its
    table's rows after, in ``order_by`` order."""
    run = run_dbt(warehouse, ["run", "--select", model, *flags], work_dir=dbt_work_dir, vars=ORACLE_VARS)
    assert run.success, explain(run)
    release_duckdb()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(f"select * from {table} order by {order_by}").fetchall()
    finally:
        con.close()


def _build_segments_incrementally(warehouse, dbt_work_dir) -> list[tuple]:
    return _run_model(
        warehouse, dbt_work_dir, "int_customer_segments_dated", SEGMENTS, "customer_id, segment_month"
    )


def test_segments_rebuild_changed_customers_and_moved_months_only(built_warehouse, dbt_work_dir):
    """An incremental build of int_customer_segments_dated rewrites the customers whose inputs
    changed (all their months), every customer's months from the first month whose date moved, and
    deletes the rows nobody has any more; it leaves every other row as it was stored."""
    warehouse = built_warehouse["path"]
    with put_back(warehouse):
        con = duckdb.connect(str(warehouse))
        expected = con.execute(f"select * from {SEGMENTS} order by customer_id, segment_month").fetchall()
        columns = [d[0] for d in con.description]
        (as_of_month,) = con.execute(f"select max(segment_month) from {SEGMENTS}").fetchone()
        first_month, first_date, first_complete = con.execute(
            f"select segment_month, segment_date, is_complete from {SEGMENTS} order by segment_month limit 1"
        ).fetchone()
        # three customers whose rows begin after the first month and span two months before the
        # as-of month: kept, changed, and one whose as-of row is wrong
        kept, changed, wrong_as_of = (
            r[0]
            for r in con.execute(
                f"select customer_id from {SEGMENTS} where segment_month < ? group by customer_id "
                "having count(*) >= 2 and min(segment_month) > ? order by customer_id limit 3",
                [as_of_month, first_month],
            ).fetchall()
        )
        own_first = f"(select min(segment_month) from {SEGMENTS} where customer_id = ?)"
        # kept: a stored row marked; the customer's inputs did not change, its month did not move
        con.execute(
            f"update {SEGMENTS} set segment = 'marked' where customer_id = ? and segment_month = {own_first}",
            [kept, kept],
        )
        # changed: another stored fingerprint (its orders changed since), a wrong row, a row of a
        # month before its first order
        con.execute(f"update {SEGMENTS} set orders_fingerprint = 0 where customer_id = ?", [changed])
        con.execute(
            f"update {SEGMENTS} set segment = 'marked' where customer_id = ? and segment_month = {own_first}",
            [changed, changed],
        )
        con.execute(
            f"insert into {SEGMENTS} select * replace (?::date as segment_month, ?::date as segment_date, "
            f"?::boolean as is_complete) from {SEGMENTS} where customer_id = ? and segment_month = {own_first}",
            [first_month, first_date, first_complete, changed, changed],
        )
        # the as-of month as the day before stored it (its date moved since), one of its rows wrong
        con.execute(
            f"update {SEGMENTS} set segment_date = segment_date - 1 where segment_month = ?", [as_of_month]
        )
        con.execute(
            f"update {SEGMENTS} set segment = 'marked' where customer_id = ? and segment_month = ?",
            [wrong_as_of, as_of_month],
        )
        # a customer whose valid orders all vanished since: every row of a customer (its
        # fingerprint on each, its as-of row among them) under an id with no valid order
        con.execute(
            f"insert into {SEGMENTS} select * replace ('nobody' as customer_id) from {SEGMENTS} "
            "where customer_id = ?",
            [kept],
        )
        con.close()
        rebuilt = _build_segments_incrementally(warehouse, dbt_work_dir)

    # every row as a full build has it, but the kept customer's marked row: it was not rebuilt
    position = {name: i for i, name in enumerate(columns)}
    assert len(rebuilt) == len(expected)
    differing = [(before, after) for before, after in zip(expected, rebuilt, strict=True) if before != after]
    assert len(differing) == 1
    before, after = differing[0]
    assert after[position["customer_id"]] == kept
    assert after[position["segment"]] == "marked" != before[position["segment"]]


MESSAGES = "intermediate.int_messages_converted"


def _run_messages(warehouse, dbt_work_dir, *flags: str) -> list[tuple]:
    return _run_model(warehouse, dbt_work_dir, "int_messages_converted", MESSAGES, "message_id", *flags)


def test_messages_rebuild_what_moved_and_keep_the_rest(built_warehouse, dbt_work_dir):
    """An incremental build of int_messages_converted rewrites the messages whose contact, fx rate
    or batch moved since (not only those loaded since), deletes those no longer staged, and leaves
    every other stored row as it was: it equals a full refresh of the same inputs but for one
    stored row marked on purpose."""
    warehouse = built_warehouse["path"]
    with put_back(warehouse):
        con = duckdb.connect(str(warehouse))
        # five messages of five different contacts (a contact's change rebuilds its messages)
        picked: dict[str, str] = {}
        contacts: set[str] = set()
        wanted = {
            "rerated": lambda has_cost, known: has_cost,
            "known_now": lambda has_cost, known: known,
            "gone_contact": lambda has_cost, known: known,
            "kept": lambda has_cost, known: not has_cost,
            "rebatched": lambda has_cost, known: not has_cost,
        }
        rows = con.execute(
            f"select message_id, contact_id, cost_local is not null, is_known_contact from {MESSAGES} "
            "order by message_id"
        ).fetchall()
        for role, fits in wanted.items():
            message_id, contact_id = next(
                (m, c) for m, c, has_cost, known in rows if fits(has_cost, known) and c not in contacts
            )
            picked[role] = message_id
            contacts.add(contact_id)
        kept, rerated, known_now, gone_contact, rebatched = (
            picked[role] for role in ("kept", "rerated", "known_now", "gone_contact", "rebatched")
        )
        # kept: a stored row marked; nothing it is computed from moved
        con.execute(f"update {MESSAGES} set campaign_name = 'marked' where message_id = ?", [kept])
        # rerated: its day's rate loaded since, with another value
        con.execute(
            "update intermediate.int_fx_rates_filled_daily as r "
            "set to_reporting_rate = r.to_reporting_rate * 2, source_loaded_at = '2100-01-01' "
            f"from {MESSAGES} as m where m.message_id = ? and r.currency = m.currency and r.rate_day = m.sent_date",
            [rerated],
        )
        # known_now: stored as unknown, its contact loaded since; gone_contact: its contact is gone
        con.execute(f"update {MESSAGES} set is_known_contact = false where message_id = ?", [known_now])
        con.execute(
            "update intermediate.int_contacts_attributed set source_loaded_at = '2100-01-01' "
            f"where contact_id = (select contact_id from {MESSAGES} where message_id = ?)",
            [known_now],
        )
        con.execute(
            "delete from intermediate.int_contacts_attributed "
            f"where contact_id = (select contact_id from {MESSAGES} where message_id = ?)",
            [gone_contact],
        )
        # rebatched: stored from a batch staging no longer holds; vanished: no staged version left
        con.execute(
            f"update {MESSAGES} set source_batch_id = 'gone', campaign_name = 'marked' where message_id = ?",
            [rebatched],
        )
        con.execute(
            f"insert into {MESSAGES} select * replace ('vanished' as message_id, 'gone' as source_batch_id) "
            f"from {MESSAGES} where message_id = ?",
            [kept],
        )
        con.close()
        incremental = _run_messages(warehouse, dbt_work_dir)
        full = _run_messages(warehouse, dbt_work_dir, "--full-refresh")

    assert len(incremental) == len(full)
    differing = [(i, f) for i, f in zip(incremental, full, strict=True) if i != f]
    assert [(i[0], "marked" in i) for i, _ in differing] == [(kept, True)]
    by_id = {row[0]: row for row in full}
    assert "vanished" not in by_id and rerated in by_id and known_now in by_id


@pytest.mark.parametrize(
    ("model", "table", "added_column"),
    [
        ("int_messages_converted", MESSAGES, "reporting_timezone"),  # DECISIONLOG 75
        ("int_orders_attributed", "intermediate.int_orders_attributed", "contact_batch_id"),  # 78
        ("fct_orders", "marts.fct_orders", "contact_batch_id"),  # 78
    ],
)
def test_a_table_built_by_an_earlier_release_stops_the_build_with_the_fix(
    built_warehouse, dbt_work_dir, growthops_settings, model, table, added_column
):
    """A release that adds a column to an incremental model (as DECISIONLOG 75 and 78 did): the
    stored table lacks it, dbt refuses to extend it, and the on-call report says what happened and
    the one command that rebuilds it."""
    from types import SimpleNamespace

    from growthops.dbt_reports import SCHEMA_DRIFT, dbt_failure_report

    warehouse = built_warehouse["path"]
    with put_back(warehouse):
        con = duckdb.connect(str(warehouse))
        con.execute(f"alter table {table} drop column {added_column}")  # as the earlier release built it
        (newest_day,) = con.execute("select max(day) from raw.load_ledger").fetchone()
        con.close()
        run = run_dbt(warehouse, ["run", "--select", model], work_dir=dbt_work_dir, vars=ORACLE_VARS)
        assert run.failed() == {model: "error"}
        assert SCHEMA_DRIFT in " ".join(run.messages[model].split())
        outcome = SimpleNamespace(
            unique_id=f"model.growthops.{model}",
            resource_type="model",
            name=model,
            message=run.messages[model],
            failures=None,
            status="error",
            seconds=0.1,
        )
        result = SimpleNamespace(failures=[outcome], outcomes=[outcome], lines=lambda: [], exception=None)
        report = dbt_failure_report(
            SimpleNamespace(kind="dbt model error", result=result), growthops_settings
        )
    assert report.summary.startswith(
        f"the stored table of {model} was built by an earlier version of the project"
    )
    assert report.commands[0].startswith(
        f"growthops backfill --start {newest_day} --end {newest_day} --full-refresh"
    )


def test_incremental_equals_full_refresh(built_warehouse, dbt_work_dir):
    warehouse = built_warehouse["path"]
    models = incremental_models(dbt_work_dir)
    incremental = {m.name: model_table(warehouse, m) for m in models}
    with put_back(warehouse):  # in place, in the build's work dir: no second full parse
        run = run_dbt(
            warehouse,
            ["run", "--select", *(m.name for m in models), "--full-refresh"],
            work_dir=dbt_work_dir,
            vars=ORACLE_VARS,
        )
        assert run.success, explain(run)
        refreshed = {m.name: model_table(warehouse, m) for m in models}
    for model, rows in incremental.items():
        full = refreshed[model]
        assert len(full) == len(rows) > 0, model
        assert full == rows, model


def test_segments_rebuild_everyone_when_an_older_month_moved(built_warehouse, dbt_work_dir):
    """When a month before the stored last one has another date than stored (not a day's move of
    the as-of date), stored rows cannot be carried forward: every customer is rebuilt from its
    orders and the table equals a full build."""
    warehouse = built_warehouse["path"]
    with put_back(warehouse):
        con = duckdb.connect(str(warehouse))
        expected = con.execute(f"select * from {SEGMENTS} order by customer_id, segment_month").fetchall()
        months = [
            r[0] for r in con.execute(f"select distinct segment_month from {SEGMENTS} order by 1").fetchall()
        ]
        assert len(months) >= 3
        # an older month stored with a wrong date, and a wrong row in a month before it
        con.execute(
            f"update {SEGMENTS} set segment_date = segment_date - 1 where segment_month = ?", [months[-2]]
        )
        con.execute(f"update {SEGMENTS} set segment = 'marked' where segment_month = ?", [months[0]])
        con.close()
        rebuilt = _build_segments_incrementally(warehouse, dbt_work_dir)

    assert rebuilt == expected
