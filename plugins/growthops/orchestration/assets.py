"""Airflow Assets growthops produces: one per raw source (emitted by its ingest DAG on success) and
one for the published marts (emitted only by the publish task)."""

from __future__ import annotations

from airflow.sdk import Asset

from growthops.config import SOURCES

RAW_ASSETS: dict[str, Asset] = {
    source: Asset(name=f"growthops_raw_{source}", uri=f"growthops://raw/{source}") for source in SOURCES
}
MARTS_ASSET = Asset(name="growthops_marts", uri="growthops://marts")
