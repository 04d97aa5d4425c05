"""Airflow Assets growthops produces: one per declared source (emitted by its ingest DAG on success)
and one for the published marts (emitted only by the publish task)."""

from __future__ import annotations

from airflow.sdk import Asset

from growthops.sources import DECLARED

RAW_ASSETS: dict[str, Asset] = {
    s.name: Asset(name=f"growthops_raw_{s.name}", uri=s.asset_uri) for s in DECLARED
}
MARTS_ASSET = Asset(name="growthops_marts", uri="growthops://marts")


def all_raw_assets():
    """The transform's schedule: every raw source has been updated since its last run."""
    condition = None
    for asset in RAW_ASSETS.values():
        condition = asset if condition is None else condition & asset
    return condition
