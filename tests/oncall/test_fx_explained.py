"""A missing fx rate is explained: currency, days, number of orders / spend rows and their files;
the failing-row read works while this process holds the build database read-write (in-process
dbt), without opening a second, differently configured connection."""

from __future__ import annotations

from types import SimpleNamespace

import duckdb
import pytest

from growthops.config import load_settings
from growthops.dbt_reports import dbt_failure_report
from growthops.warehouse import create_raw_tables


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "data"))
    s = load_settings()
    s.warehouse_dir.mkdir(parents=True)
    con = duckdb.connect(str(s.warehouse_path))
    create_raw_tables(con)
    con.execute(
        "insert into raw.fx_rates (date, currency, usd_rate, _source_file, _source_line) values"
        " ('2025-03-01', 'EUR', 1.1, 'fx/2025-03-01/rates.csv', 2)"
    )
    for i, (day, currency) in enumerate(
        [("2025-03-02", "GBP"), ("2025-03-04", "GBP"), ("2025-03-02", "EUR")]
    ):
        con.execute(
            "insert into raw.shop_orders (order_id, created_at, updated_at, status, currency, gross_amount,"
            " discount_amount, refund_amount, _source_file, _source_line) values (?, ?, ?, 'paid', ?, 10, 0, 0, ?, ?)",
            [f"O{i}", f"{day} 10:00:00", f"{day} 10:00:00", currency, f"orders/{day}/orders.csv", i + 2],
        )
    con.execute(
        "insert into raw.channel_performance (date, platform, campaign_id, campaign_name, impressions, clicks,"
        " spend, currency, _source_file, _source_line) values"
        " ('2025-03-03', 'meta_ads', 'm1', 'x', 10, 1, 5, 'GBP', 'channel/2025-03-03/meta_ads.csv', 2)"
    )
    con.close()
    return s


def _failure(name: str = "fx_rate_is_available_int_orders_converted_currency__order_date") -> SimpleNamespace:
    outcome = SimpleNamespace(
        unique_id=f"test.growthops.{name}",
        resource_type="test",
        name=name,
        message="",
        failures=2,
        status="fail",
    )
    result = SimpleNamespace(failures=[outcome], outcomes=[outcome], lines=lambda: [], exception=None)
    return SimpleNamespace(kind="dbt test failure", result=result)


def test_missing_rate_names_currency_days_rows_and_files(settings):
    held = duckdb.connect(str(settings.warehouse_path))  # in-process dbt holds it read-write
    try:
        report = dbt_failure_report(_failure(), settings)
    finally:
        held.close()
    assert report.summary.startswith(
        "no fx rate for GBP 2025-03-03: 1 spend row(s); GBP 2025-03-02..2025-03-04: 2 order(s)"
    )
    assert "EUR" not in report.summary  # EUR has a rate from 03-01 on
    by_name = {c.name: c for c in report.checks}
    orders = by_name["fx rate for GBP (orders)"]
    assert "2 order(s) in orders/2025-03-02/orders.csv, orders/2025-03-04/orders.csv" in orders.observed
    assert orders.detail == "e.g. orders/2025-03-02/orders.csv line 2"
    assert "channel/2025-03-03/meta_ads.csv" in by_name["fx rate for GBP (channel)"].observed
    assert (report.source, report.day) == ("fx", "2025-03-02")
    assert not any("different configuration" in n for n in report.details.get("notes", []))
