"""The bench's steady-state daily run: the backfilled history is re-dated as if loaded day by day."""

from __future__ import annotations

import os
import time
from datetime import date, datetime

import duckdb
import pytest

from growthops.commands.backfill import run_backfill
from growthops.commands.bench import as_if_loaded_day_by_day
from growthops.config import load_settings

HEADER = (
    "order_id,contact_id,created_at,updated_at,status,currency,gross_amount,discount_amount,refund_amount"
)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "data"))
    return load_settings()


def _put(settings, day: date, rows: list[str]) -> None:
    path = settings.landing_dir / "orders" / day.isoformat() / "orders.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    old = time.time() - 3600
    os.utime(path, (old, old))


def test_history_is_re_dated_to_the_morning_after_each_export_day(settings):
    ts1, ts2 = "2025-01-02T10:00:00+00:00", "2025-01-03T09:00:00+00:00"
    _put(settings, date(2025, 1, 2), [f"O1,C1,{ts1},{ts1},paid,USD,10.00,0.00,0.00"])
    _put(
        settings,
        date(2025, 1, 3),
        [f"O2,C2,{ts2},{ts2},paid,USD,5.00,0.00,0.00"],
    )
    run_backfill(settings, date(2025, 1, 2), date(2025, 1, 3), sources=("orders",), publish=False)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    before = dict(con.execute("select day, finished_at - started_at from raw.load_ledger").fetchall())
    con.close()

    assert as_if_loaded_day_by_day(settings) == 2

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    rows = con.execute("select order_id, _loaded_at from raw.shop_orders order by order_id").fetchall()
    assert rows == [("O1", datetime(2025, 1, 3, 2)), ("O2", datetime(2025, 1, 4, 2))]
    ledger = con.execute(
        "select day, started_at, finished_at - started_at from raw.load_ledger order by day"
    ).fetchall()
    assert [(d, s) for d, s, _ in ledger] == [
        (date(2025, 1, 2), datetime(2025, 1, 3, 2)),
        (date(2025, 1, 3), datetime(2025, 1, 4, 2)),
    ]
    assert {d: took for d, _, took in ledger} == before  # each load keeps its duration
    con.close()
