"""Bad data makes `dbt build` fail on the test that names the problem, and the marts are not built."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from dbt_helpers import run_dbt
from dbt_raw_loading import Batch, insert_rows

from growthops.warehouse import create_raw_tables

DAY = date(2025, 1, 1)
TS = datetime(2025, 1, 1, 12, 0)


def _order(order_id: str, contact_id: str | None, currency: str, gross: float) -> dict:
    return {
        "order_id": order_id,
        "contact_id": contact_id,
        "created_at": TS,
        "updated_at": TS,
        "status": "paid",
        "currency": currency,
        "gross_amount": gross,
        "discount_amount": 0,
        "refund_amount": 0,
    }


def _contact() -> dict:
    return {
        "contact_id": "k1",
        "email": "k1@example.org",
        "created_at": TS,
        "updated_at": TS,
        "lifecycle_stage": "lead",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "spring",
        "country": "DE",
        "is_deleted": False,
    }


def _campaign_day(platform: str) -> dict:
    return {
        "date": DAY,
        "platform": platform,
        "campaign_id": "c1",
        "campaign_name": "Spring",
        "impressions": 100,
        "clicks": 5,
        "spend": 10,
        "currency": "USD",
    }


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    """The folder of every build of this module: one warehouse path, made afresh by each build, so
    dbt reuses the first build's partial parse (the parse is keyed on the warehouse path)."""
    return tmp_path_factory.mktemp("failing_data")


def _build(build_dir: Path, orders: list[dict], platforms: list[str]):
    warehouse = build_dir / "growthops.duckdb"
    for leftover in (warehouse, warehouse.with_name(f"{warehouse.name}.wal")):
        leftover.unlink(missing_ok=True)  # the previous test's warehouse: every build starts empty
    con = duckdb.connect(str(warehouse))
    create_raw_tables(con)
    batch = Batch("x", DAY)
    insert_rows(con, "fx", [{"date": DAY, "currency": "EUR", "usd_rate": 1.1}], batch)
    insert_rows(con, "crm", [_contact()], batch)
    insert_rows(con, "orders", orders, batch)
    insert_rows(con, "channel", [_campaign_day(p) for p in platforms], batch)
    con.close()
    run = run_dbt(warehouse, ["build", "--exclude-resource-type", "unit_test"], work_dir=build_dir)
    return warehouse, run


def _assert_marts_not_built(run):
    # a failing test stops everything downstream: no mart is built from bad data
    for mart in ("fct_orders", "dim_customers", "mart_channel_funnel_daily", "mart_cohort_retention"):
        assert run.statuses[mart] == "skipped", (mart, run.statuses.get(mart))


def test_duplicated_order_fails_the_build(build_dir):
    # the same order_id twice in one file: which version wins is undefined
    _, run = _build(build_dir, [_order("o1", "k1", "USD", 10), _order("o1", "k1", "USD", 12)], ["google_ads"])
    assert not run.success
    assert run.failed() == {"raw_shop_orders_order_id_unique_within_file": "fail"}
    assert run.statuses["stg_orders__orders"] == "skipped"
    _assert_marts_not_built(run)


def test_missing_fx_rate_and_unknown_platform_fail_the_build(build_dir):
    # an order in a currency the fx export has no rate for; an ad platform the seed does not know
    warehouse, run = _build(
        build_dir,
        [_order("o1", "k1", "USD", 10), _order("o2", "k1", "CHF", 30)],
        ["google_ads", "snapchat_ads"],
    )
    assert not run.success
    assert run.failed() == {
        "fx_rate_is_available_int_orders_converted_fx_rate__currency__order_date": "fail",
        "relationships_stg_channel__campaign_days_platform__platform__ref_platform_channels_": "fail",
    }
    _assert_marts_not_built(run)
    # the CHF order is kept with no rate (the test lists it): never dropped, never converted at 1
    con = duckdb.connect(str(warehouse), read_only=True)
    kept = con.execute(
        "select order_id, currency, fx_rate, net_revenue from intermediate.int_orders_converted"
    ).fetchall()
    con.close()
    assert sorted(kept) == [("o1", "USD", 1, 10), ("o2", "CHF", None, None)]


def test_a_file_is_judged_for_repeated_keys_by_the_build_that_stages_it(build_dir):
    """The raw uniqueness test judges the files loaded after the staged watermark minus the 3-day
    lookback: a repeated key in a file staged long ago is not judged again, one in a new file
    is; a full refresh judges every file."""
    warehouse = build_dir / "growthops.duckdb"
    for leftover in (warehouse, warehouse.with_name(f"{warehouse.name}.wal")):
        leftover.unlink(missing_ok=True)
    old, staged, new = (
        Batch("orders", DAY),
        Batch("orders", date(2025, 1, 11)),
        Batch("orders", date(2025, 1, 12)),
    )
    con = duckdb.connect(str(warehouse))
    create_raw_tables(con)
    insert_rows(con, "orders", [_order("o1", "k1", "USD", 10)], old)  # loaded 2025-01-02 06:00
    insert_rows(con, "orders", [_order("o2", "k1", "USD", 20)], staged)  # loaded 2025-01-12 06:00
    con.close()
    only_orders = ["--select", "source:orders", "stg_orders__orders"]
    first = run_dbt(warehouse, ["build", *only_orders], work_dir=build_dir)
    assert first.success and first.statuses["stg_orders__orders"] == "success"

    # the watermark is now 2025-01-12 06:00 - 3 days: the old file is not judged again
    _insert(warehouse, [_order("o1", "k1", "USD", 10), _order("o1", "k1", "USD", 11)], old)
    assert run_dbt(warehouse, ["build", *only_orders], work_dir=build_dir).success
    _insert(warehouse, [_order("o3", "k1", "USD", 30), _order("o3", "k1", "USD", 31)], new)
    daily = run_dbt(warehouse, ["build", *only_orders], work_dir=build_dir)
    assert daily.failed() == {"raw_shop_orders_order_id_unique_within_file": "fail"}
    assert daily.statuses["stg_orders__orders"] == "skipped"
    assert _failing_keys(warehouse, build_dir) == [("o3", "orders/2025-01-12/hand-written.csv", 2)]

    full = run_dbt(warehouse, ["build", "--full-refresh", *only_orders], work_dir=build_dir)
    assert full.failed() == {"raw_shop_orders_order_id_unique_within_file": "fail"}
    assert _failing_keys(warehouse, build_dir) == [
        ("o1", "orders/2025-01-01/hand-written.csv", 3),
        ("o3", "orders/2025-01-12/hand-written.csv", 2),
    ]


def _insert(warehouse: Path, orders: list[dict], batch: Batch) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        insert_rows(con, "orders", orders, batch)
    finally:
        con.close()


def _failing_keys(warehouse: Path, build_dir: Path) -> list[tuple]:
    """The rows the last build's raw orders uniqueness test found (its compiled SQL, run again)."""
    import json

    results = json.loads((build_dir / "target" / "run_results.json").read_text())
    [sql] = [
        r["compiled_code"]
        for r in results["results"]
        if r["unique_id"].startswith("test.growthops.raw_shop_orders_order_id_unique_within_file")
    ]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return sorted(con.execute(sql).fetchall())
    finally:
        con.close()
