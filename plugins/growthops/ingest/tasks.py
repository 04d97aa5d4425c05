"""What the ingest DAGs' tasks do, kept out of the DAG files and testable without Airflow running.

- :func:`export_day` — the export day a run owns: the ``day`` param if given, else the run's
  logical date (with the daily interval timetable, the run for day D starts after D ends).
- :func:`poke` — the sensor's check: is the export of that day there and finished? Never reads a
  file, never touches DuckDB; fails fast (no retry) once the export is overdue.
- :func:`load` — runs :func:`growthops.ingest.loader.ingest_day` and turns its exceptions into
  Airflow's language: data problems -> ``AirflowFailException`` (no retry) with a one-screen
  message and a report under ``<data>/runs/``; a validator crash -> ``AirflowFailException`` too,
  reported as a *validator error*; transient trouble (lock, I/O, file still being written) is
  re-raised so Airflow retries it with exponential backoff.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from growthops.config import Settings, load_settings
from growthops.logs import get_logger

log = get_logger(__name__)


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


def deadline(settings: Settings, source: str, day: date) -> datetime:
    """When waiting for the export of ``day`` stops: ``expected_by`` on day + ``stale_after_days``."""
    src = settings.source(source)
    hh, mm = (int(x) for x in src.expected_by.split(":"))
    tz = ZoneInfo(settings.reporting_timezone)
    return datetime.combine(day + timedelta(days=src.stale_after_days), time(hh, mm), tzinfo=tz)


def poke(source: str, day: date, *, settings: Settings | None = None, now: datetime | None = None):
    """Sensor check: ``(done, files, message)``. Raises ``AirflowFailException`` once overdue."""
    from growthops.ingest.landing import scan_day

    settings = settings or load_settings()
    ready, pending = scan_day(settings, source, day)
    if ready and not pending:
        return True, [f.rel_path for f in ready], f"{source} {day}: ready: {', '.join(f.name for f in ready)}"
    waiting = "; ".join(f"{p.rel_path} ({p.reason})" for p in pending) or "no file yet"
    message = f"{source} {day}: waiting for the export in {settings.landing_dir / source / day.isoformat()}: {waiting}"
    now = now or datetime.now(UTC)
    due = deadline(settings, source, day)
    if now > due:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(
            f"{message}. The export is overdue (waited until {due.isoformat()}): ask the provider for it, "
            f"drop it into landing and clear this task."
        )
    log.info(message)
    return False, [], message


def _transient_types() -> tuple[type[BaseException], ...]:
    import duckdb

    from growthops.errors import TransientError
    from growthops.warehouse import WarehouseLocked

    return (TransientError, WarehouseLocked, OSError, duckdb.IOException)


def load(source: str, day: date, *, settings: Settings | None = None) -> dict[str, Any]:
    """Ingest ``source`` for ``day``; returns a JSON-able summary (XCom and asset event extra)."""
    from growthops.errors import DataQualityError, ValidatorError
    from growthops.ingest.loader import ingest_day

    settings = settings or load_settings()
    try:
        result = ingest_day(settings, source, day)
    except DataQualityError as exc:
        path = report_data_failure(exc)
        from airflow.sdk.exceptions import AirflowFailException

        from growthops.reports import failure_message

        raise AirflowFailException(failure_message(path)) from None
    except ValidatorError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        from growthops.reports import failure_message, report_failure

        path = report_failure(
            "validator error",
            f"{source} {day}: the raw gate crashed; the data was not judged, nothing was loaded or quarantined",
            source=source,
            day=day.isoformat(),
            details={"error": str(exc)},
        )
        raise AirflowFailException(
            f"validator error (not a data failure): {exc}. Files stay in landing; fix the validator "
            "or its suite, then clear this task.\n" + failure_message(path)
        ) from None
    except _transient_types() as exc:
        log.warning("%s %s: transient failure, Airflow will retry: %s", source, day, exc)
        from growthops.reports import report_if_final_try

        report_if_final_try(
            exc,
            summary=f"{source} {day}: the load failed on a lock or I/O error: {exc}",
            source=source,
            day=day.isoformat(),
        )
        raise
    summary = {
        "source": source,
        "day": day.isoformat(),
        "files": [o.to_dict() | {"report": None} for o in result.outcomes],
        "batches": [o.batch_id for o in result.outcomes],
        "rows_loaded": sum(o.rows_loaded for o in result.outcomes),
        "rows_rejected": sum(o.rows_rejected for o in result.outcomes),
    }
    for o in result.outcomes:
        log.info("%s: %s — %s", o.source_file, o.status, o.message)
        for w in o.warnings:
            log.warning("%s: %s", o.source_file, w)
    return summary


def report_data_failure(exc: Any) -> Any:
    """One report file per failed run (under ``<data>/runs/``) in the format on-call reads."""
    from growthops.reports import Check, report_failure

    reports = exc.reports
    first = reports[0]
    checks = [
        Check(
            name=c.rule + (f" ({c.column})" if c.column else ""),
            observed=c.observed,
            expected=c.expected,
            detail=(
                f"{r.source_file}"
                + (f" lines {', '.join(str(n) for n in c.lines[:10])}" if c.lines else "")
                + (f"; {c.detail}" if c.detail else "")
            ),
        )
        for r in reports
        for c in r.checks
    ]
    return report_failure(
        first.kind,
        first.summary() + (f" (+{len(reports) - 1} more file(s))" if len(reports) > 1 else ""),
        source=first.source,
        day=first.day,
        source_file=", ".join(r.source_file for r in reports),
        sha256=first.sha256,
        checks=checks,
        sample_rows=[row for r in reports for row in r.sample_rows][:10],
        quarantined_to=", ".join(r.quarantine_path for r in reports if r.quarantine_path) or None,
    )
