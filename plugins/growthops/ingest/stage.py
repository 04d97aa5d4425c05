"""The ingest stage for one source and export day, under the one failure policy.

- :func:`load_day` runs :func:`growthops.ingest.loader.ingest_day`: data problems (a refused or
  quarantined file) write the on-call report (file, lines, rule, sample rows) and raise
  :class:`~growthops.failures.StageFailure`; a validator crash is reported as a *validator error*
  (the data was not judged, nothing moved) and raises it too; transient trouble (lock, I/O, file
  still being written) is re-raised for a retry, reported on the last try.
- :func:`export_status` is the sensor's check: is the day's export there and finished? It never
  reads a file and never touches DuckDB.

The daily DAGs call these through :mod:`growthops.orchestration.ingest_tasks`; ``growthops
replay`` calls :func:`load_day` directly.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from growthops.config import Settings, load_settings
from growthops.failures import stage_policy
from growthops.logs import get_logger

log = get_logger(__name__)


def deadline(settings: Settings, source: str, day: date) -> datetime:
    """When waiting for the export of ``day`` stops: ``expected_by`` on day + ``stale_after_days``."""
    src = settings.source(source)
    hh, mm = (int(x) for x in src.expected_by.split(":"))
    tz = ZoneInfo(settings.reporting_timezone)
    return datetime.combine(day + timedelta(days=src.stale_after_days), time(hh, mm), tzinfo=tz)


def export_status(settings: Settings, source: str, day: date) -> tuple[bool, list[str], str]:
    """``(done, files, message)`` for the export of ``source`` on ``day``."""
    from growthops.ingest.landing import scan_day, unexpected_files

    ready, pending = scan_day(settings, source, day)
    unexpected = [] if settings.ignore_unexpected_files else unexpected_files(settings, source, day)
    if (ready or unexpected) and not pending:  # an unexpected file: the load task fails, naming it
        names = [f.name for f in ready] + [f"{u.rel_path} (unexpected name)" for u in unexpected]
        return True, [f.rel_path for f in ready], f"{source} {day}: ready: {', '.join(names)}"
    waiting = "; ".join(f"{p.rel_path} ({p.reason})" for p in pending) or "no file yet"
    message = f"{source} {day}: waiting for the export in {settings.landing_dir / source / day.isoformat()}: {waiting}"
    return False, [], message


def load_day(source: str, day: date, *, settings: Settings | None = None) -> dict[str, Any]:
    """Ingest ``source`` for ``day``; returns a JSON-able summary (XCom and asset event extra)."""
    from growthops.errors import DataQualityError, ValidatorError
    from growthops.ingest.loader import ingest_day
    from growthops.ingest.lost_build import LostBuildError

    settings = settings or load_settings()

    def report(exc: BaseException) -> Any:
        if isinstance(exc, ValidatorError):
            return report_validator_error(exc, source, day)
        if isinstance(exc, LostBuildError):
            from growthops.reports import report_failure

            return report_failure(
                "build database lost",
                f"{source} {day}: {exc}",
                source=source,
                day=day.isoformat(),
                commands=exc.commands,
            )
        return report_data_failure(exc)

    with stage_policy(
        settings,
        kind="load failed",
        failed=f"{source} {day}: the load failed",
        transient=f"{source} {day}: the load failed on a lock or I/O error",
        data_errors=(DataQualityError, ValidatorError, LostBuildError),
        report=report,
        context={"source": source, "day": day.isoformat()},
    ):
        result = ingest_day(settings, source, day)
    for o in result.outcomes:
        log.info("%s: %s — %s", o.source_file, o.status, o.message)
        for w in o.warnings:
            log.warning("%s: %s", o.source_file, w)
    return {
        "source": source,
        "day": day.isoformat(),
        "files": [o.to_dict() | {"report": None} for o in result.outcomes],
        "batches": [o.batch_id for o in result.outcomes],
        "rows_loaded": sum(o.rows_loaded for o in result.outcomes),
        "rows_rejected": sum(o.rows_rejected for o in result.outcomes),
    }


def report_validator_error(exc: BaseException, source: str, day: date) -> Any:
    """A crash of the raw gate itself: the data was not judged; files stay where they are."""
    from growthops.reports import report_failure

    return report_failure(
        "validator error",
        f"{source} {day}: the raw gate crashed; the data was not judged, nothing was loaded or "
        "quarantined (validator error, not a data failure: fix the validator or its suite, then "
        "clear the task or replay)",
        source=source,
        day=day.isoformat(),
        details={"error": str(exc)},
    )


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
        commands=_unexpected_file_commands(reports),
        source=first.source,
        day=first.day,
        source_file=", ".join(r.source_file for r in reports),
        sha256=first.sha256,
        checks=checks,
        sample_rows=[row for r in reports for row in r.sample_rows][:10],
        quarantined_to=", ".join(r.quarantine_path for r in reports if r.quarantine_path) or None,
    )


def _unexpected_file_commands(reports: list[Any]) -> list[str]:
    """The commands for a day refused only for unexpected file names (else [] = the defaults)."""
    from growthops import next_steps
    from growthops.ingest.landing import UNEXPECTED_FILE_RULE

    if not all(r.rules == [UNEXPECTED_FILE_RULE] for r in reports):
        return []
    first = reports[0]
    check = first.checks[0]
    accepted = str(check.expected).removeprefix("a name matching ")
    return [
        *next_steps.unexpected_file(first.source, first.day, first.source_file, accepted),
        next_steps.status(),
    ]
