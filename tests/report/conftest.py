"""Fixtures of the report tests: one small published pipeline per session.

``served`` generates three months of sample exports at a tiny scale and publishes them through the
backfill path (run ``report_base``), then delivers two more order files (one with a bad row, one
all bad: rejected row and quarantined file) and publishes again (run ``report_second``, same marts,
a newer load ledger), and builds the report of the served version. Tests read the serving file
independently and compare it with the pages.
"""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import pytest

from growthops.config import Settings, load_settings

START = date(2025, 1, 1)
END = date(2025, 3, 31)
REJECTS_DAY = date(2025, 4, 1)
QUARANTINE_DAY = date(2025, 4, 2)
SCALE = 0.005
SEED = 42
BASE_RUN = "report_base"
SECOND_RUN = "report_second"
ORDERS_HEADER = (
    "order_id,contact_id,created_at,updated_at,status,currency,gross_amount,discount_amount,refund_amount"
)


def _env(mp: pytest.MonkeyPatch, root: Path) -> None:
    mp.setenv("GROWTHOPS_DATA_DIR", str(root))
    mp.setenv("GROWTHOPS_INGEST_SETTLE_SECONDS", "0")
    for name in ("GROWTHOPS_LANDING_DIR", "GROWTHOPS_CONFIG", "GROWTHOPS_NOTIFY_CONN_ID"):
        mp.delenv(name, raising=False)


def _orders_file(settings: Settings, day: date, bad_lines: set[int], rows: int) -> None:
    lines = [ORDERS_HEADER]
    for i in range(1, rows + 1):
        ts = f"{day.isoformat()}T10:{i % 60:02d}:00+00:00"
        status = "on_hold" if i in bad_lines else "paid"
        lines.append(f"RP{day:%m%d}{i:04d},RC{i:04d},{ts},{ts},{status},USD,100.00,0.00,0.00")
    path = settings.landing_dir / "orders" / day.isoformat() / "orders.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    old = time.time() - 3600
    os.utime(path, (old, old))


@pytest.fixture(scope="session")
def served(tmp_path_factory) -> Settings:
    """A data root serving ``report_second`` (lineage: report_base, report_second), its report built."""
    from growthops.commands.backfill import run_backfill
    from growthops.generate import generate
    from growthops.ingest.loader import load_range
    from growthops.report.build import build_report
    from growthops.serve.publish import publish

    root = tmp_path_factory.mktemp("report") / "data"
    with pytest.MonkeyPatch.context() as mp:
        _env(mp, root)
        settings = load_settings()
        generate(settings.landing_dir, START, END, SCALE, SEED)
        result = run_backfill(settings, START, END, run_id=BASE_RUN, progress=lambda _m: None)
        assert result.published_run_id == BASE_RUN
        _orders_file(settings, REJECTS_DAY, bad_lines={11}, rows=150)  # 1 in 150: row rejected
        _orders_file(settings, QUARANTINE_DAY, bad_lines=set(range(1, 21)), rows=20)  # quarantined
        outcomes = load_range(settings, "orders", REJECTS_DAY, QUARANTINE_DAY).outcomes
        assert sorted(o.status for o in outcomes) == ["loaded_with_rejects", "quarantined"]
        publish(settings, SECOND_RUN)
        build_report(settings, progress=lambda _m: None)
    return settings


@pytest.fixture
def env(served, monkeypatch) -> Settings:
    """The environment points at the served data root (for the CLI)."""
    _env(monkeypatch, served.data_dir)
    return served
