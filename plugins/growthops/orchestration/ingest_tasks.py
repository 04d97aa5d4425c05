"""The daily ingest DAGs, built from the source declarations (:mod:`growthops.sources`).

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

import os
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import CronDataIntervalTimetable, Param, PokeReturnValue, dag, task

from growthops.config import Settings, load_settings
from growthops.orchestration.airflow_setup import DUCKDB_POOL
from growthops.orchestration.assets import RAW_ASSETS
from growthops.orchestration.policy import ANY_WORKER, DEFAULT_ARGS, run_stage
from growthops.sources import Source

# The DAGs use CronDataIntervalTimetable("@daily"): the run for export day D covers [D, D+1), starts
# once D is over and has logical date D, so `airflow dags test <dag> D` loads day D too — whatever
# [scheduler] create_cron_data_intervals says.
POKE_INTERVAL = timedelta(minutes=5)
SENSOR_TIMEOUT = timedelta(days=4)  # a backstop: poke() fails earlier, once the export is overdue
START_DATE = datetime(2025, 1, 1, tzinfo=UTC)


def catchup_enabled() -> bool:
    """SPEC §6: daily DAGs catch up (a missed day is loaded later). ``GROWTHOPS_INGEST_CATCHUP=false``
    (what ``make airflow`` sets) turns it off, so unpausing a DAG on a laptop starts one run, not
    hundreds since START_DATE; history goes through ``growthops_backfill`` (one run for a range)."""
    return os.environ.get("GROWTHOPS_INGEST_CATCHUP", "true").strip().lower() not in {
        "0",
        "false",
        "no",
        "off",
    }


PARAMS = {
    "day": Param(
        None,
        type=["null", "string"],
        format="date",
        description="Export day to load (YYYY-MM-DD). Empty: the run's logical date.",
    )
}


def export_day(context: dict[str, Any]) -> date:
    """The day a run loads: ``params.day`` if set, else its logical date (else data interval start)."""
    params = context.get("params") or {}
    if params.get("day"):
        return date.fromisoformat(str(params["day"]))
    for key in ("logical_date", "data_interval_start"):
        value = context.get(key)
        if value is not None:
            return value.astimezone(UTC).date()
    run_after = context["dag_run"].run_after
    return (run_after.astimezone(UTC) - timedelta(days=1)).date()


def poke(source: str, day: date, *, settings: Settings | None = None, now: datetime | None = None):
    """Sensor check: ``(done, files, message)``. Raises ``AirflowFailException`` once overdue."""
    from growthops.ingest.stage import deadline, export_status

    settings = settings or load_settings()
    done, files, message = export_status(settings, source, day)
    if done:
        return done, files, message
    due = deadline(settings, source, day)
    if (now or datetime.now(UTC)) > due:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(
            f"{message}. The export is overdue (waited until {due.isoformat()}): ask the provider for it, "
            f"drop it into landing and clear this task."
        )
    return False, [], message


def load(source: str, day: date, *, settings: Settings | None = None) -> dict[str, Any]:
    """The load task's work: :func:`growthops.ingest.stage.load_day` under the failure policy."""
    from growthops.ingest.stage import load_day

    return run_stage(load_day, source, day, settings=settings)


def _context() -> dict[str, Any]:
    from airflow.sdk import get_current_context

    return dict(get_current_context())


@task.sensor(  # reads the landing only: any worker (ANY_WORKER) when the writer has its own queue
    mode="reschedule",
    poke_interval=POKE_INTERVAL.total_seconds(),
    timeout=SENSOR_TIMEOUT.total_seconds(),
    **ANY_WORKER,
)
def _wait_for_export(source: str) -> PokeReturnValue:
    done, files, _message = poke(source, export_day(_context()))
    return PokeReturnValue(is_done=done, xcom_value=files)


@task(pool=DUCKDB_POOL, execution_timeout=timedelta(hours=2))
def _load_export(source: str) -> dict[str, Any]:
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


def doc_md(source: Source) -> str:
    """The DAG's documentation, from the declaration."""
    name = source.name
    return f"""
### {source.dag_id} — load {source.title} into `{source.raw_table}`

One run per export day D (logical date D, started once D is over; catchup from the start date).
Export: `<landing>/{name}/<day>/{source.export}` (or `.jsonl` / `.parquet`). {source.notes}

1. **wait_for_{name}_export** — sensor in reschedule mode (holds no worker slot between pokes):
   waits until the day's files are there and finished (no `.part`/`.tmp` name, mtime settled).
   Fails fast once the export is overdue (`expected_by` + `stale_after_days` in `[sources.{name}]`).
2. **load_{name}** — pool `{DUCKDB_POOL}` (one DuckDB writer): header check, raw gate
   (GX suite `expectations/{name}.json`), row rejects with file + line + rule in `raw.rejects`,
   one ledger row per batch (a file, or every part of a multi-part export) in `raw.load_ledger`. Emits Asset `{source.asset_uri}` only on success.

A re-delivered identical file is a no-op; a corrected file replaces the day's batch. A bad file is
moved to `<data>/quarantine/{name}/<day>/` with a report; the task fails without retry, naming
file, lines and rule (report also under `<data>/runs/`). So does a file in the day folder whose name
no pattern of the source accepts (e.g. `orders (1).csv`), naming it and the accepted patterns,
unless `[ingest] ignore_unexpected_files = true`. Replay: fix the file, drop it back into
landing and clear the task, or `growthops replay {name} <day>`. Lock and I/O errors retry with backoff.
Param `day` overrides the export day of a manual run.
"""


def ingest_dag(source: Source):
    """The DAG ``growthops_ingest_<source>``: wait for the day's export, then gate and load it."""

    @dag(
        dag_id=source.dag_id,
        schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),  # run for day D starts when D ends
        start_date=START_DATE,
        catchup=catchup_enabled(),
        max_active_runs=4,
        default_args=DEFAULT_ARGS,
        params=PARAMS,
        tags=["growthops", "ingest", source.name],
        doc_md=doc_md(source),
    )
    def ingest():
        wait = _wait_for_export.override(
            task_id=f"wait_for_{source.name}_export",
            doc_md=f"Wait (reschedule mode, no worker slot held) for `<landing>/{source.name}/<day>/` "
            "to hold a finished export.",
        )(source.name)
        load_task = _load_export.override(
            task_id=f"load_{source.name}",
            outlets=[RAW_ASSETS[source.name]],
            doc_md=(
                f"Raw gate and load of the `{source.name}` export of the day into DuckDB (pool `{DUCKDB_POOL}`). "
                "Bad rows -> raw.rejects; a bad file -> quarantine + AirflowFailException (no retry)."
            ),
        )(source.name)
        wait >> load_task

    return ingest()
