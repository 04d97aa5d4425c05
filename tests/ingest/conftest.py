"""Fixtures for ingestion tests: a data root in tmp, hand-written landing files, warehouse queries."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from growthops.config import Settings, load_settings

DAY = date(2025, 1, 3)

ORDERS_HEADER = (
    "order_id,contact_id,created_at,updated_at,status,currency,gross_amount,discount_amount,refund_amount"
)
CRM_HEADER = (
    "contact_id,email,created_at,updated_at,lifecycle_stage,utm_source,utm_medium,utm_campaign,country"
)
CHANNEL_HEADER = "date,platform,campaign_id,campaign_name,impressions,clicks,spend,currency"
FX_HEADER = "date,currency,usd_rate"


def order_row(
    i: int, *, status: str = "paid", gross: str = "100.00", day: date = DAY, contact: str = "C1"
) -> str:
    ts = f"{day.isoformat()}T10:{i % 60:02d}:00+00:00"
    return f"O{i},{contact},{ts},{ts},{status},USD,{gross},0.00,0.00"


def orders_csv(n: int, *, day: date = DAY, extra_rows: tuple[str, ...] = ()) -> str:
    rows = [order_row(i, day=day) for i in range(1, n + 1)]
    return "\n".join([ORDERS_HEADER, *rows, *extra_rows]) + "\n"


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GROWTHOPS_INGEST_SETTLE_SECONDS", "2")
    return load_settings()


class Landing:
    """Writes export files into the landing folder, aged past the settle time unless asked not to."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def put(
        self,
        source: str,
        name: str,
        content: str | bytes,
        *,
        day: date = DAY,
        age: float = 3600,
    ) -> Path:
        path = self.settings.landing_dir / source / day.isoformat() / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(data)
        mtime = time.time() - age
        os.utime(path, (mtime, mtime))
        return path


@pytest.fixture
def landing(settings) -> Landing:
    return Landing(settings)


class Warehouse:
    def __init__(self, settings: Settings):
        self.path = settings.warehouse_path

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        if not self.path.exists():
            return []
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        except duckdb.CatalogException:
            return []
        finally:
            con.close()

    def one(self, sql: str, params: list | None = None):
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def count(self, table: str) -> int:
        return self.one(f"select count(*) from {table}") or 0


@pytest.fixture
def wh(settings) -> Warehouse:
    return Warehouse(settings)
