"""Fixtures for publication tests: a data root in tmp_path and a build DB with small marts.

Every mart row carries ``run_tag`` (the run that built it), so a reader can check that all
tables it sees in one connection come from the same publication.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from growthops.config import load_settings
from growthops.warehouse import create_raw_tables

MARTS = {
    "fct_orders": "One row per order, latest version",
    "dim_customers": "One row per contact or guest customer",
    "mart_channel_funnel_daily": "One row per report date, channel and campaign",
    "mart_funnel_stages": "One row per signup month and channel",
    "mart_cohort_retention": "One row per cohort month, channel and months since first order",
    "mart_reactivation_candidates": "One row per lapsed customer",
}


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "data"))
    s = load_settings()
    s.warehouse_dir.mkdir(parents=True)
    return s


def build_marts(path: Path, run_tag: str, rows: int = 3, batches: tuple[str, ...] = ()) -> dict[str, int]:
    """(Re)build schema marts of the build DB at ``path``; every table has ``rows * (i + 1)`` rows."""
    con = duckdb.connect(str(path))
    try:
        con.execute("begin")  # one commit (one WAL fsync) instead of one per statement
        create_raw_tables(con)
        for batch in batches:
            con.execute(
                "insert into raw.fx_rates (date, currency, usd_rate, _batch_id, _batch_day, _loaded_at) "
                "values (date '2025-01-01', 'EUR', 1.1, ?, date '2025-01-01', now()::timestamp)",
                [batch],
            )
        con.execute("create schema if not exists marts")
        counts = {}
        for i, (name, description) in enumerate(MARTS.items()):
            n = rows * (i + 1)
            con.execute(
                f"create or replace table marts.{name} as "
                f"select range as id, ? as run_tag, range * 1.5 as amount from range({n})",
                [run_tag],
            )
            con.execute(f"comment on table marts.{name} is '{description}'")
            con.execute(f"comment on column marts.{name}.run_tag is 'Run that built the row'")
            counts[name] = n
        con.execute("commit")
        return counts
    finally:
        con.close()


@pytest.fixture
def build(settings):
    """``build(run_tag, rows=3, batches=())`` rebuilds the marts of the build DB."""

    def _build(run_tag: str, rows: int = 3, batches: tuple[str, ...] = ()) -> dict[str, int]:
        return build_marts(settings.warehouse_path, run_tag, rows, batches)

    return _build
