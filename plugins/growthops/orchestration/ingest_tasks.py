"""Shared building blocks of the daily ingest DAGs (one DAG file per source stays configuration-like).

Each ingest DAG is ``wait_for_<source>_export >> load_<source>``:

- the sensor runs in ``reschedule`` mode — between pokes it holds no worker slot — and only looks
  at the landing folder (finished files, no ``.part``, settled mtime). It fails fast, without
  retry, once the export is overdue (``expected_by`` + ``stale_after_days`` in the config);
- the load task takes the one-slot ``growthops_duckdb`` pool (DuckDB has one writer), emits the
  source's Asset (``growthops://raw/<source>``) only when it succeeds, fails without retry on a
  data problem and retries transient ones (lock, I/O) with exponential backoff.

Nothing heavy is imported here: DAG files are parsed every 30 s.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, PokeReturnValue, task

from growthops.orchestration.airflow_setup import DUCKDB_POOL
from growthops.orchestration.assets import RAW_ASSETS
from growthops.orchestration.notify import failure_notifiers

# The DAGs use CronDataIntervalTimetable("@daily"): the run for export day D covers [D, D+1), starts
# once D is over and has logical date D, so `airflow dags test <dag> D` loads day D too — whatever
# [scheduler] create_cron_data_intervals says.
POKE_INTERVAL = timedelta(minutes=5)
SENSOR_TIMEOUT = timedelta(days=4)  # a backstop: poke() fails earlier, once the export is overdue

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "growthops",
    "on_failure_callback": failure_notifiers(),  # off unless a notify connection is configured
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,  # 30 s, 60 s, 120 s (a multiplier in Airflow 3.3: True means 1x)
    "max_retry_delay": timedelta(minutes=10),
}

PARAMS = {
    "day": Param(
        None,
        type=["null", "string"],
        format="date",
        description="Export day to load (YYYY-MM-DD). Empty: the run's logical date.",
    )
}


def _context() -> dict[str, Any]:
    from airflow.sdk import get_current_context

    return dict(get_current_context())


@task.sensor(
    mode="reschedule", poke_interval=POKE_INTERVAL.total_seconds(), timeout=SENSOR_TIMEOUT.total_seconds()
)
def _wait_for_export(source: str) -> PokeReturnValue:
    from growthops.ingest.tasks import export_day, poke

    done, files, _message = poke(source, export_day(_context()))
    return PokeReturnValue(is_done=done, xcom_value=files)


def wait_for_export(source: str):
    """Sensor task ``wait_for_<source>_export``: the day's export is there and finished."""
    return _wait_for_export.override(
        task_id=f"wait_for_{source}_export",
        doc_md=f"Wait (reschedule mode, no worker slot held) for `<landing>/{source}/<day>/` to hold a finished export.",
    )(source)


@task(pool=DUCKDB_POOL, execution_timeout=timedelta(hours=2))
def _load_export(source: str) -> dict[str, Any]:
    from growthops.ingest.tasks import export_day, load

    context = _context()
    summary = load(source, export_day(context))
    events = context.get("outlet_events")
    if events is not None:
        events[RAW_ASSETS[source]].extra = {
            "day": summary["day"],
            "batches": summary["batches"],
            "rows_loaded": summary["rows_loaded"],
        }
    return summary


def load_export(source: str):
    """Load task ``load_<source>``: gate + load the day; emits the source's Asset only on success."""
    return _load_export.override(
        task_id=f"load_{source}",
        outlets=[RAW_ASSETS[source]],
        doc_md=(
            f"Raw gate and load of the `{source}` export of the day into DuckDB (pool `{DUCKDB_POOL}`). "
            "Bad rows -> raw.rejects; a bad file -> quarantine + AirflowFailException (no retry)."
        ),
    )(source)
