"""The daily gate: the days touched since the served publication in full, global totals over every
day (the hand-made build DB of conftest.py; its docstring has the hand computation).

Loads after 2025-01-04 12:00 (:data:`SINCE`): the restated google_ads file of 2025-01-03 and the
restated EUR rate of 2025-01-03 (the only EUR rows from that day on are 2025-01-03's) — so the
touched day is 2025-01-03 and 2025-01-02 is untouched.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from growthops import gx_frames
from growthops.gate import reconcile
from growthops.gate import scope as gate_scope
from growthops.gate.mart_gate import run_mart_gate
from growthops.gate.reconcile import KEYS_NAME, REVENUE_NAME
from growthops.gate.result import GateResult
from growthops.gate.scope import GateScope, requested_scope
from growthops.gate.totals import ORDER_COUNT
from growthops.ingest.ledger import ensure_tables

SINCE = datetime(2025, 1, 4, 12, 0)
DAY2, DAY3 = date(2025, 1, 2), date(2025, 1, 3)

# One expectation per day-scoped mart: enough to see which rows GX judged.
DAY_SUITE = {
    "name": "days",
    "meta": {"keys": {"fct_orders": ["order_id"], "mart_channel_funnel_daily": ["report_date", "channel"]}},
    "expectations": [
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "net_revenue", "min_value": 0},
            "meta": {"table": "fct_orders"},
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "ctr", "min_value": 0, "max_value": 1},
            "meta": {"table": "mart_channel_funnel_daily"},
        },
    ],
}
DAY_REVENUE = reconcile.ORDER_REVENUE_PER_DAY.name
SPEND = reconcile.SPEND.name
NET_RANGE = "expect_column_values_to_be_between(net_revenue)"
CTR_RANGE = "expect_column_values_to_be_between(ctr)"


@pytest.fixture
def day_suite(tmp_path):
    path = tmp_path / "days.json"
    path.write_text(json.dumps(DAY_SUITE))
    return path


@pytest.fixture
def ledger_con(con):
    ensure_tables(con)  # the load ledger beside the hand-made raw tables
    return con


def daily(since: datetime = SINCE) -> GateScope:
    return GateScope(full=False, reason="test", since=since)


def check(result: GateResult, name: str):
    (found,) = [c for c in result.checks if c.name == name]
    return found


def test_daily_gate_judges_the_touched_day_and_names_it(settings, ledger_con, day_suite):
    result = run_mart_gate(settings, ledger_con, suite_path=day_suite, scope=daily())
    assert result.status == "passed", result.message()
    assert not result.scope.full and result.scope.days == (DAY3,)
    assert "daily gate: 1 touched day(s) 2025-01-03 (loads since 2025-01-04 12:00:00 UTC)" in result.message()
    assert result.to_dict()["scope"]["days"] == ["2025-01-03"]
    # GX judged only the touched day's rows: 3 orders and 3 funnel rows of 2025-01-03
    assert check(result, NET_RANGE).observed == "0 of 3 rows unexpected"
    assert check(result, CTR_RANGE).observed.endswith("of 3 rows unexpected")
    # the per-order checks: the orders of 2025-01-03; the totals: every day
    assert (check(result, REVENUE_NAME).observed, check(result, REVENUE_NAME).expected) == (25.0, 25.0)
    assert check(result, DAY_REVENUE).expected == 150.0
    assert check(result, SPEND).expected == 257.5
    assert check(result, ORDER_COUNT).observed == {"rows": 5, "distinct_keys": 5}


def test_touched_days_follow_restated_orders_rates_and_the_ledger(settings, ledger_con, day_suite):
    # loads after 2025-01-03 12:00 also hold o1's new version: o1 was created on 2025-01-02
    result = run_mart_gate(settings, ledger_con, suite_path=day_suite, scope=daily(datetime(2025, 1, 3, 12)))
    assert result.scope.days == (DAY2, DAY3)
    ledger_con.execute(
        "insert into raw.load_ledger (batch_id, source, day, export_key, file_name, source_file, sha256, "
        "file_format, status, finished_at, superseded_by) values ('ch:d1', 'channel', '2025-01-01', "
        "'google_ads', 'google_ads.csv', 'channel/2025-01-01/google_ads.csv', 'x', 'csv', 'loaded', "
        "'2025-01-06 01:00', 'ch:d1b')"
    )
    # a batch the ledger finished since (here superseded): its export day, even with no row left
    result = run_mart_gate(settings, ledger_con, suite_path=day_suite, scope=daily())
    assert result.scope.days == (date(2025, 1, 1), DAY3)
    assert (
        run_mart_gate(
            settings, ledger_con, suite_path=day_suite, scope=daily(datetime(2025, 1, 6, 2))
        ).scope.days
        == ()
    )


def test_unknown_touched_days_gate_every_day(settings, con, day_suite):
    """No load ledger: what was touched is unknown, so every day is gated (the safe default)."""
    con.execute("update marts.mart_channel_funnel_daily set ctr = 1.5 where report_date = '2025-01-02'")
    result = run_mart_gate(settings, con, suite_path=day_suite, scope=daily())
    assert result.scope.full and result.scope.reason.startswith("touched days unknown")
    assert "full gate: every day (touched days unknown" in result.message()
    assert [c.name for c in result.failed] == [CTR_RANGE]


@pytest.mark.parametrize(
    ("tamper", "failed"),
    [
        ("update marts.fct_orders set net_revenue = -25 where order_id = 'o5'", {NET_RANGE, REVENUE_NAME}),
        (
            "update marts.mart_channel_funnel_daily set ctr = 1.5 where report_date = '2025-01-03'",
            {CTR_RANGE},
        ),
        ("delete from marts.fct_orders where order_id = 'o3'", {KEYS_NAME, ORDER_COUNT}),
    ],
    ids=["order-revenue", "funnel-range", "order-missing"],
)
def test_a_fault_in_the_touched_day_fails_the_daily_gate(settings, ledger_con, day_suite, tamper, failed):
    ledger_con.execute(tamper)
    result = run_mart_gate(settings, ledger_con, suite_path=day_suite, scope=daily())
    assert result.status == "data_failed"
    assert failed <= {c.name for c in result.failed}
    report = result.to_failure_report()  # the on-call report names the days the gate judged
    assert report.details == {
        "gate scope": "daily gate: 1 touched day(s) 2025-01-03 (loads since 2025-01-04 12:00:00 UTC) + global totals",
        "days gated": ["2025-01-03"],
    }


@pytest.mark.parametrize(
    ("tamper", "name", "sample"),
    [
        (
            "update marts.fct_orders set net_revenue = 60 where order_id = 'o2'",
            DAY_REVENUE,
            {"day": "2025-01-02", "mart_net_revenue": 130.0, "raw_net_revenue": 125.0, "difference": 5.0},
        ),
        (
            "update marts.mart_channel_funnel_daily set attributed_revenue = 69 where report_date = '2025-01-02' and channel = 'google_ads'",
            "attributed revenue equals net revenue of the latest raw orders",
            {
                "day": "2025-01-02",
                "mart_attributed_revenue": 124.0,
                "raw_net_revenue": 125.0,
                "difference": -1.0,
            },
        ),
        (
            "update marts.mart_channel_funnel_daily set spend = 101 where report_date = '2025-01-02' and channel = 'google_ads'",
            SPEND,
            {"day": "2025-01-02", "mart_spend": 156.0, "raw_spend": 155.0, "difference": 1.0},
        ),
        (
            "insert into marts.fct_orders select * from marts.fct_orders where order_id = 'o2'",
            ORDER_COUNT,
            None,
        ),
    ],
    ids=["order-revenue", "funnel-revenue", "spend", "order-twice"],
)
def test_a_fault_in_an_untouched_day_fails_the_global_totals(
    settings, ledger_con, day_suite, tamper, name, sample
):
    ledger_con.execute(tamper)
    result = run_mart_gate(settings, ledger_con, suite_path=day_suite, scope=daily())
    assert result.scope.days == (DAY3,)
    failed = {c.name for c in result.failed}
    assert name in failed and not failed & {KEYS_NAME, REVENUE_NAME}  # the touched day is fine
    if sample is not None:
        assert sample.items() <= check(result, name).sample_rows[0].items()
    else:
        assert check(result, ORDER_COUNT).observed == {"rows": 6, "distinct_keys": 5}


@pytest.mark.parametrize(
    ("tamper", "full_only"),
    [
        (
            "update marts.mart_channel_funnel_daily set ctr = 1.5 where report_date = '2025-01-02'",
            {CTR_RANGE},
        ),
        # same day, status and amount under another key: the counts and per-day totals still hold
        ("update marts.fct_orders set order_id = 'o2x' where order_id = 'o2'", {KEYS_NAME, REVENUE_NAME}),
    ],
    ids=["range", "key-swapped"],
)
def test_what_only_the_full_gate_catches_in_an_untouched_day(
    settings, ledger_con, day_suite, tamper, full_only
):
    ledger_con.execute(tamper)
    assert run_mart_gate(settings, ledger_con, suite_path=day_suite, scope=daily()).passed
    full = run_mart_gate(settings, ledger_con, suite_path=day_suite)
    assert full.scope.full and "full gate: every day (requested)" in full.message()
    assert {c.name for c in full.failed} == full_only


def serve_current_marts(settings, con, tamper: str | None = None) -> None:
    """Publish, as the served file, the build's order and funnel marts as they are now (``tamper``:
    SQL run on the served copy, schema ``gate_test_served.marts``)."""
    settings.serving_path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"attach '{settings.serving_path}' as gate_test_served")
    con.execute("create schema gate_test_served.marts")
    for table in ("fct_orders", "mart_channel_funnel_daily"):
        con.execute(f"create table gate_test_served.marts.{table} as select * from marts.{table}")
    if tamper:
        con.execute(tamper)
    con.execute("detach gate_test_served")


def test_untouched_days_take_their_totals_from_the_served_publication(settings, ledger_con, day_suite):
    """The build equals the served publication on 2025-01-02: its totals are the served ones, and
    only the touched day's orders are looked up in raw (hand computation: as without a serving file)."""
    serve_current_marts(settings, ledger_con)
    result = run_mart_gate(settings, ledger_con, suite_path=day_suite, scope=daily())
    assert result.status == "passed", result.message()
    assert (result.scope.days, result.scope.moved, result.scope.served_basis_missing) == ((DAY3,), (), None)
    assert result.to_dict()["scope"]["other_days_from"] == "served publication"
    assert (check(result, REVENUE_NAME).observed, check(result, REVENUE_NAME).expected) == (25.0, 25.0)
    assert check(result, DAY_REVENUE).expected == 150.0  # 125.00 served + 25.00 raw
    assert check(result, ORDER_COUNT).expected == {"rows": 5, "distinct_keys": 5}  # 2 served + 3 raw
    # the served totals are what the untouched day is held to: a raw order changed in place,
    # with no load to touch its day, is not seen (the full gate sees it; without a serving file
    # the global totals from raw do)
    ledger_con.execute("update raw.shop_orders set gross_amount = 60 where order_id = 'o2'")
    assert run_mart_gate(settings, ledger_con, suite_path=day_suite, scope=daily()).passed
    assert REVENUE_NAME in {c.name for c in run_mart_gate(settings, ledger_con, suite_path=day_suite).failed}
    settings.serving_path.unlink()
    without = run_mart_gate(settings, ledger_con, suite_path=day_suite, scope=daily())
    assert without.scope.served_basis_missing.startswith("FileNotFoundError: no serving file")
    assert without.to_dict()["scope"]["other_days_from"] == "raw"
    assert DAY_REVENUE in {c.name for c in without.failed}


@pytest.mark.parametrize(
    ("tamper", "failed", "sample"),
    [
        (
            "update marts.fct_orders set net_revenue = 60 where order_id = 'o2'",
            {DAY_REVENUE, REVENUE_NAME},
            {"order_id": "o2", "mart_net_revenue": 60.0, "raw_net_revenue": 55.0},
        ),
        (
            "update marts.mart_channel_funnel_daily set attributed_revenue = 69 where report_date = '2025-01-02' and channel = 'google_ads'",
            {"attributed revenue equals net revenue of the latest raw orders"},
            None,
        ),
        (
            "insert into marts.fct_orders select * from marts.fct_orders where order_id = 'o2'",
            {ORDER_COUNT, KEYS_NAME},
            {"problem": "duplicated in fct_orders", "order_id": "o2", "times_in_mart": 2},
        ),
        ("delete from marts.fct_orders where order_id = 'o1'", {ORDER_COUNT, KEYS_NAME, DAY_REVENUE}, None),
    ],
    ids=["order-revenue", "funnel-revenue", "order-twice", "order-missing"],
)
def test_an_untouched_day_that_moved_from_the_served_publication_is_judged_against_raw(
    settings, ledger_con, day_suite, tamper, failed, sample
):
    serve_current_marts(settings, ledger_con)
    ledger_con.execute(tamper)  # a dbt fault in the build, on a day no load touched
    result = run_mart_gate(settings, ledger_con, suite_path=day_suite, scope=daily())
    assert (result.scope.days, result.scope.moved) == ((DAY2, DAY3), (DAY2,))
    assert (
        "(loads since 2025-01-04 12:00:00 UTC; 1 of them moved from the served publication: 2025-01-02)"
        in (result.message())
    )
    assert result.status == "data_failed"
    assert failed <= {c.name for c in result.failed}
    if sample is not None:
        name = REVENUE_NAME if "mart_net_revenue" in sample else KEYS_NAME
        assert sample.items() <= check(result, name).sample_rows[0].items()
    assert result.to_failure_report().details["days gated"] == ["2025-01-02", "2025-01-03"]


def test_a_served_publication_behind_raw_moves_the_day_and_raw_judges_it(settings, ledger_con, day_suite):
    """The served file missed o1's restatement (as when a load lands between a run's build and its
    publication): 2025-01-02 moved, and the build, right by raw, passes."""
    serve_current_marts(
        settings,
        ledger_con,
        "update gate_test_served.marts.fct_orders set net_revenue = 90, status = 'paid' where order_id = 'o1'",
    )
    result = run_mart_gate(settings, ledger_con, suite_path=day_suite, scope=daily())
    assert result.status == "passed", result.message()
    assert result.scope.moved == (DAY2,)
    assert (check(result, REVENUE_NAME).observed, check(result, REVENUE_NAME).expected) == (150.0, 150.0)


def test_an_unreadable_served_publication_takes_every_day_from_raw(settings, ledger_con, day_suite):
    serve_current_marts(settings, ledger_con, "drop table gate_test_served.marts.mart_channel_funnel_daily")
    ledger_con.execute("update marts.fct_orders set net_revenue = 60 where order_id = 'o2'")
    result = run_mart_gate(settings, ledger_con, suite_path=day_suite, scope=daily())
    assert "mart_channel_funnel_daily" in result.scope.served_basis_missing
    assert (result.scope.days, result.scope.moved) == ((DAY3,), ())
    failed = {c.name for c in result.failed}
    assert DAY_REVENUE in failed and REVENUE_NAME not in failed  # the global totals from raw


def test_requested_scope_is_full_unless_a_daily_gate_is_safe(settings, monkeypatch):
    assert requested_scope(settings).reason == "nothing published yet"  # no serving file
    monkeypatch.setattr(gate_scope, "_served_publication", lambda s: SINCE)
    never = requested_scope(settings)
    assert never.full and never.reason == "a full gate every 7 days (never)"
    settings.warehouse_dir.mkdir(parents=True)
    gate_scope.record_full_gate(settings)
    assert requested_scope(settings) == GateScope(
        full=False, reason="loads since the served publication", since=SINCE
    )
    assert requested_scope(settings, full=True).full
    assert requested_scope(dataclasses.replace(settings, gate_scope="full")).reason == '[gate] scope = "full"'
    stale = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=8)
    (settings.warehouse_dir / gate_scope.FULL_GATE_FILE).write_text(
        json.dumps({"passed_at": stale.isoformat()})
    )
    assert requested_scope(settings).full
    assert not requested_scope(dataclasses.replace(settings, gate_full_every_days=0)).full


def test_gx_context_is_made_once_per_process(settings, ledger_con, day_suite, monkeypatch):
    """One context for both gates: the raw gate's validation makes it, the mart gate reuses it."""
    import great_expectations as gx
    import pandas as pd

    from growthops.ingest import gate as raw_gate

    made = []
    real = gx.get_context
    gx_frames.gx_context.cache_clear()
    monkeypatch.setattr(gx, "get_context", lambda **kw: made.append(kw) or real(**kw))
    not_null = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}}
    assert raw_gate.validate(pd.DataFrame({"x": [1, None]}), [not_null]).status == raw_gate.DATA_FAILED
    for _ in range(2):
        assert run_mart_gate(settings, ledger_con, suite_path=day_suite, scope=daily()).passed
    assert len(made) == 1 and made[0]["mode"] == "ephemeral"
