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
