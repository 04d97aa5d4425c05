"""
### growthops_backfill — load a date range of exports and publish the marts once

Manual trigger with params `start` and `end` (inclusive export days). Loads every source's
daily files for the range through the same per-file code as the daily ingest DAGs (contract
check, raw gate, row rejects, quarantine, ledger; identical files already loaded are skipped),
then runs one `dbt build`, the mart gate and one publication.

Three years of daily exports in one run instead of ~1,100 runs per source. The same function
backs `growthops backfill --start --end`. Failure reports: `<data>/runs/growthops_backfill/<run_id>/`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, task

from growthops.orchestration.airflow_setup import DUCKDB_POOL
from growthops.orchestration.assets import MARTS_ASSET
from growthops.orchestration.policy import DEFAULT_ARGS


@task(pool=DUCKDB_POOL, outlets=[MARTS_ASSET], execution_timeout=timedelta(hours=6))
def load_build_publish(params=None, run_id=None) -> dict:
    """Ingest the range, dbt build, mart gate, publish (one DuckDB writer throughout)."""
    from datetime import date

    from airflow.sdk.exceptions import AirflowFailException

    from growthops.commands.backfill import run_backfill
    from growthops.config import load_settings
    from growthops.orchestration.policy import run_stage

    start, end = date.fromisoformat(params["start"]), date.fromisoformat(params["end"])
    if end < start:
        raise AirflowFailException(f"end {end} is before start {start}")
    result = run_stage(run_backfill, load_settings(), start, end, run_id=run_id, progress=print)
    print(result.summary())
    return {"run_id": result.published_run_id, "row_counts": result.row_counts}


@dag(
    dag_id="growthops_backfill",
    schedule=None,
    start_date=datetime(2023, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS | {"retries": 2},
    params={
        "start": Param("2025-01-01", type="string", format="date", description="first export day"),
        "end": Param("2025-01-31", type="string", format="date", description="last export day (inclusive)"),
    },
    tags=["growthops", "backfill"],
    doc_md=__doc__,
)
def growthops_backfill():
    load_build_publish()


growthops_backfill()
