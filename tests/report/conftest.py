"""Fixtures of the report tests: the shared published world, served twice, with its report.

``served`` copies the shared world (root conftest: three months at a tiny scale, published as run
``BASE_RUN``), delivers two more order files (one with a bad row, one all bad: rejected row and
quarantined file) and publishes again (run ``report_second``, same marts, a newer load ledger),
and builds the report of the served version. Tests read the serving file independently and
compare it with the pages.
"""

from __future__ import annotations

from datetime import date

import pytest
from world import WORLD_RUN, deliver, point_at

from growthops.config import Settings, load_settings

REJECTS_DAY = date(2025, 4, 1)
QUARANTINE_DAY = date(2025, 4, 2)
BASE_RUN = WORLD_RUN
SECOND_RUN = "report_second"
ORDERS_HEADER = (
    "order_id,contact_id,created_at,updated_at,status,currency,gross_amount,discount_amount,refund_amount"
)


def _orders_file(settings: Settings, day: date, bad_lines: set[int], rows: int) -> None:
    lines = [ORDERS_HEADER]
    for i in range(1, rows + 1):
        ts = f"{day.isoformat()}T10:{i % 60:02d}:00+00:00"
        status = "on_hold" if i in bad_lines else "paid"
        lines.append(f"RP{day:%m%d}{i:04d},RC{i:04d},{ts},{ts},{status},USD,100.00,0.00,0.00")
    deliver(settings, "orders", day, "orders.csv", "\n".join(lines) + "\n")


@pytest.fixture(scope="session")
def served(copy_world, tmp_path_factory) -> Settings:
    """A data root serving ``report_second`` (lineage: BASE_RUN, report_second), its report built."""
    from growthops.ingest.loader import load_range
    from growthops.report.build import build_report
    from growthops.serve.publish import publish

    root = copy_world(tmp_path_factory.mktemp("report") / "data")
    with pytest.MonkeyPatch.context() as mp:
        point_at(mp, root)
        settings = load_settings()
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
    point_at(monkeypatch, served.data_dir)
    return served
