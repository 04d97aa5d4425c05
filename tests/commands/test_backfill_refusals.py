"""``growthops backfill`` refuses, before loading anything, a range holding a day folder dated after
today (clock skew, in the words of ``growthops ingest``) or a file no pattern accepts."""

from __future__ import annotations

import os
import time
from datetime import date, timedelta

import pytest

from growthops.commands.cli import main
from growthops.config import load_settings
from growthops.ingest.refusals import clock_skew_message, today

HEADER = (
    "order_id,contact_id,created_at,updated_at,status,currency,gross_amount,discount_amount,refund_amount"
)
D1 = date(2025, 1, 2)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "data"))
    return load_settings()


def _put(settings, day: date, name: str) -> bytes:
    ts = f"{day.isoformat()}T10:00:00+00:00"
    data = f"{HEADER}\nO1,C1,{ts},{ts},paid,USD,10.00,0.00,0.00\n".encode()
    path = settings.landing_dir / "orders" / day.isoformat() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    old = time.time() - 3600
    os.utime(path, (old, old))
    return data


def _backfill(start: date, end: date) -> int:
    return main(["backfill", "--start", start.isoformat(), "--end", end.isoformat(), "--sources", "orders"])


def test_a_future_day_folder_refuses_the_backfill_before_anything_is_loaded(settings, capsys):
    last = today(settings)
    future = last + timedelta(days=2)
    _put(settings, last, "orders.csv")
    data = _put(settings, future, "orders.csv")
    assert _backfill(last, future) == 1
    err = capsys.readouterr().err
    assert clock_skew_message("orders", [future], last) in err  # the wording of `growthops ingest`
    assert "growthops replay orders <real day>   # after fixing the exporter's clock" in err
    assert "Traceback" not in err
    assert not settings.warehouse_path.exists()  # nothing loaded, not even the good day
    assert (settings.landing_dir / "orders" / future.isoformat() / "orders.csv").read_bytes() == data


def test_an_unexpected_file_refuses_the_backfill_unless_ignored(settings, capsys, monkeypatch):
    _put(settings, D1, "orders.csv")
    _put(settings, D1, "orders_20250102.csv")
    assert _backfill(D1, D1) == 1
    err = capsys.readouterr().err
    assert f"UNEXPECTED FILE orders/{D1}/orders_20250102.csv: not an accepted orders export name" in err
    assert "(orders.*, orders_part[0-9]*.*)" in err
    assert f"growthops replay orders {D1}   # after renaming orders/{D1}/orders_20250102.csv" in err
    assert not settings.warehouse_path.exists()
    [report] = list((settings.data_dir / "runs").rglob("*.json"))
    assert "unexpected_file" in report.read_text()

    monkeypatch.setenv("GROWTHOPS_INGEST_IGNORE_UNEXPECTED_FILES", "true")
    assert (
        main(["backfill", "--start", str(D1), "--end", str(D1), "--sources", "orders", "--no-publish"]) == 0
    )
    assert "orders 2025-01-02..2025-01-02: 1 files (loaded 1" in capsys.readouterr().out
