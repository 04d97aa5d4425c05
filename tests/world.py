"""Helpers to make a data world for tests: a data root in tmp, generated exports, a backfill.

Importable from every test folder (``tests/`` is on ``sys.path`` through the root conftest).
"""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import pytest

from growthops.config import Settings, load_settings

# The shared world (root conftest ``published_world``): three months at a tiny scale.
WORLD = {"start": date(2025, 1, 1), "end": date(2025, 3, 31), "scale": 0.005, "seed": 7}
WORLD_RUN = "world_base"


def point_at(mp: pytest.MonkeyPatch, root: Path) -> None:
    """Point growthops at the data root ``root`` (files count as finished at once, no notifier)."""
    mp.setenv("GROWTHOPS_DATA_DIR", str(root))
    mp.setenv("GROWTHOPS_INGEST_SETTLE_SECONDS", "0")
    for name in ("GROWTHOPS_LANDING_DIR", "GROWTHOPS_CONFIG", "GROWTHOPS_NOTIFY_CONN_ID"):
        mp.delenv(name, raising=False)


def publish_world(root: Path, run_id: str, *, start: date, end: date, scale: float, seed: int) -> Settings:
    """Generate ``start``..``end`` into ``root``'s landing and backfill it, publishing ``run_id``."""
    from growthops.commands.backfill import run_backfill
    from growthops.generate import generate

    with pytest.MonkeyPatch.context() as mp:
        point_at(mp, root)
        settings = load_settings()
        generate(settings.landing_dir, start, end, scale, seed)
        result = run_backfill(settings, start, end, run_id=run_id, progress=lambda _m: None)
    assert result.published_run_id == run_id
    assert result.row_counts["fct_orders"] > 0
    return settings


def deliver(settings: Settings, source: str, day: date, name: str, text: str) -> Path:
    """Deliver an export file into landing, aged an hour (so it counts as finished)."""
    path = settings.landing_dir / source / day.isoformat() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    old = time.time() - 3600
    os.utime(path, (old, old))
    return path
