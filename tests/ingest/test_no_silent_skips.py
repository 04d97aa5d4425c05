"""Nothing is skipped silently: declared file names (multi-part exports), unexpected names, days
missing inside the loaded range and day folders dated in the future are all reported."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from growthops.commands.cli import main
from growthops.commands.status import collect_status, render
from growthops.contracts import CONTRACTS

from .conftest import ORDERS_HEADER, order_row, orders_csv

D1, D2, D3 = date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 4)


def _ingest(*args: str) -> int:
    return main(["ingest", "--source", "orders", *args])


def test_each_source_declares_its_patterns_defaulting_to_todays_names():
    assert CONTRACTS["orders"].patterns == ("orders.*", "orders_part[0-9]*.*")
    assert CONTRACTS["crm"].patterns[0] == "contacts.*"
    assert CONTRACTS["fx"].patterns == ("rates.*",)


def test_a_multi_part_export_loads_as_one_day(settings, landing, wh, capsys):
    part1 = "\n".join([ORDERS_HEADER, *(order_row(i, day=D1) for i in range(1, 4))]) + "\n"
    part2 = "\n".join([ORDERS_HEADER, *(order_row(i, day=D1) for i in range(4, 6))]) + "\n"
    landing.put("orders", "orders_part1.csv", part1, day=D1)
    landing.put("orders", "orders_part2.csv", part2, day=D1)
    assert _ingest("--day", D1.isoformat()) == 0
    out = capsys.readouterr().out
    assert "2 files (loaded 2" in out and "UNEXPECTED" not in out
    assert wh.count("raw.shop_orders") == 5
    assert wh.rows("select file_name, rows_loaded from raw.load_ledger order by 1") == [
        ("orders_part1.csv+orders_part2.csv", 5)  # one batch (tests/ingest/test_multi_part.py)
    ]


@pytest.mark.parametrize("name", ["orders_20250103.csv", "orders (1).csv", "export.csv", "orders.csv.gz"])
def test_an_unexpected_name_is_reported_and_fails_the_ingest(settings, landing, wh, capsys, name):
    landing.put("orders", "orders.csv", orders_csv(3, day=D1), day=D1)
    landing.put("orders", name, orders_csv(3, day=D2), day=D2)
    assert _ingest("--start", D1.isoformat(), "--end", D2.isoformat()) == 1
    out = capsys.readouterr().out
    assert f"UNEXPECTED FILE orders/{D2}/{name}: not an accepted orders export name" in out
    assert "orders.*, orders_part[0-9]*.*" in out
    assert wh.count("raw.shop_orders") == 3  # the renamed file was not read


def test_unexpected_files_can_be_ignored_by_config_but_are_still_listed(
    settings, landing, monkeypatch, capsys
):
    monkeypatch.setenv("GROWTHOPS_INGEST_IGNORE_UNEXPECTED_FILES", "true")
    landing.put("orders", "orders.csv", orders_csv(3, day=D1), day=D1)
    landing.put("orders", "orders (1).csv", orders_csv(3, day=D1), day=D1)
    assert _ingest("--day", D1.isoformat()) == 0
    assert f"UNEXPECTED FILE orders/{D1}/orders (1).csv" in capsys.readouterr().out


def test_status_lists_unexpected_files_and_days_missing_inside_the_loaded_range(settings, landing, capsys):
    landing.put("orders", "orders.csv", orders_csv(2, day=D1), day=D1)
    landing.put("orders", "orders_20250103.csv", orders_csv(2, day=D2), day=D2)
    landing.put("orders", "orders.csv", orders_csv(2, day=D3), day=D3)
    assert _ingest("--start", D1.isoformat(), "--end", D3.isoformat()) == 1
    capsys.readouterr()

    status = collect_status(settings, now=datetime(2025, 1, 5, 8, tzinfo=UTC))
    orders = next(s for s in status.sources if s.source == "orders")
    assert orders.freshness == "ok"  # the latest day is fine ...
    assert orders.missing_days == [D2.isoformat()]  # ... but a day inside the range is not
    assert orders.unexpected_files == [f"orders/{D2}/orders_20250103.csv"]
    assert orders.needs_attention and status.needs_attention
    text = render(status)
    assert f"MISSING DAYS (inside the loaded range, nothing loaded): {D2}" in text
    assert f"next: growthops replay orders {D2}   # after dropping the export" in text
    assert f"UNEXPECTED FILE (not loaded): orders/{D2}/orders_20250103.csv" in text
    assert main(["status", "--as-of", "2025-01-05T08:00"]) == 1


def test_a_day_folder_dated_after_today_is_refused_as_clock_skew(settings, landing, wh, capsys):
    future = datetime.now(UTC).date() + timedelta(days=3)
    landing.put("orders", "orders.csv", orders_csv(2, day=future), day=future)
    assert _ingest("--day", future.isoformat()) == 1
    out = capsys.readouterr().out
    assert "REFUSED day folder(s) dated after today" in out and "clock skew" in out and str(future) in out
    assert wh.count("raw.shop_orders") == 0
    orders = next(s for s in collect_status(settings).sources if s.source == "orders")
    assert orders.future_days == [future.isoformat()] and orders.needs_attention


def test_the_daily_load_task_fails_without_retry_on_an_unexpected_file_naming_it(settings, landing, wh):
    from airflow.sdk.exceptions import AirflowFailException

    from growthops.ingest.stage import export_status
    from growthops.orchestration.ingest_tasks import load

    landing.put("orders", "orders.csv", orders_csv(3, day=D1), day=D1)
    landing.put("orders", "orders (1).csv", orders_csv(4, day=D1), day=D1)
    assert export_status(settings, "orders", D1)[0]  # the sensor hands over: the load names the file
    with pytest.raises(AirflowFailException) as exc:  # AirflowFailException: no retry
        load("orders", D1, settings=settings)
    text = str(exc.value)
    assert (
        f"FAILED (contract mismatch): orders {D1}: orders/{D1}/orders (1).csv failed unexpected_file" in text
    )
    assert (
        f"growthops replay orders {D1}   # after renaming orders/{D1}/orders (1).csv to an accepted name"
        in text
    )
    assert "(orders.*, orders_part[0-9]*.*)" in text and "Traceback" not in text
    [report] = list((settings.data_dir / "runs").rglob("*.json"))
    check = json.loads(report.read_text())["checks"][0]
    assert (check["name"], check["observed"]) == ("unexpected_file", "orders (1).csv")
    assert check["expected"] == "a name matching orders.*, orders_part[0-9]*.*"
    assert wh.count("raw.shop_orders") == 3  # the accepted export of the day is loaded, the other is not


def test_the_daily_load_task_loads_when_unexpected_files_are_ignored(settings, landing, wh, monkeypatch):
    from growthops.config import load_settings
    from growthops.orchestration.ingest_tasks import load

    monkeypatch.setenv("GROWTHOPS_INGEST_IGNORE_UNEXPECTED_FILES", "true")
    landing.put("orders", "orders.csv", orders_csv(3, day=D1), day=D1)
    landing.put("orders", "orders (1).csv", orders_csv(4, day=D1), day=D1)
    summary = load("orders", D1, settings=load_settings())
    assert summary["rows_loaded"] == 3 and wh.count("raw.shop_orders") == 3
