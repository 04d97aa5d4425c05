"""The transform stages outside dbt: mart gate and publication, shared by the transform DAG,
``growthops backfill`` and ``growthops replay``.

Each stage raises a :class:`StageFailure` carrying the one-screen report it already wrote; the
Airflow task turns it into ``AirflowFailException`` (a data failure is never retried).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from growthops.config import Settings
from growthops.logs import get_logger
from growthops.reports import report_failure

log = get_logger(__name__)


class StageFailure(RuntimeError):
    """A stage failed on data or code (not transient): its report is already written."""

    def __init__(self, message: str, report_path=None):
        super().__init__(message)
        self.report_path = report_path


@dataclass
class StageTimer:
    seconds: dict[str, float] = field(default_factory=dict)

    def record(self, name: str, started: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + time.monotonic() - started


def build_marts(settings: Settings, *, full_refresh: bool = False) -> Any:
    """``dbt seed`` + ``dbt build`` (models, snapshot, data and unit tests) in one in-process run."""
    from growthops.dbt_runner import DbtFailure, invoke

    cmd = ["build"] + (["--full-refresh"] if full_refresh else [])
    try:
        return invoke(settings, cmd)
    except DbtFailure as exc:
        path = report_failure(kind=exc.kind, summary=str(exc), details={"dbt": exc.result.lines()})
        raise StageFailure(str(exc), path) from None


def mart_gate(settings: Settings) -> Any:
    """Reconcile the built marts with raw and check ranges; fail with observed vs expected."""
    from growthops.mart_gate import run_mart_gate
    from growthops.warehouse import connection

    with connection(settings.warehouse_path, read_only=True) as con:
        result = run_mart_gate(settings, con)
    for line in result.lines():
        log.info("%s", line)
    if result.passed:
        return result
    if result.validator_error:
        kind, what = "validator error", f"the mart gate validator crashed: {result.validator_error}"
    else:
        failed = result.failed
        kind = "mart gate failed"
        what = f"mart gate failed {len(failed)} check(s): " + ", ".join(c.name for c in failed[:5])
    path = report_failure(
        kind=kind,
        summary=what + " — nothing was published",
        checks=[
            {"name": c.name, "observed": c.observed, "expected": c.expected, "detail": c.details}
            for c in result.failed
        ],
        sample_rows=[row for c in result.failed for row in (c.sample_rows or [])][:10],
    )
    raise StageFailure(what, path)


def publish_marts(settings: Settings, run_id: str) -> Any:
    """Publish schema ``marts`` of the build DB to the serving file (write-audit-publish)."""
    from growthops.publish import PublishError, publish

    try:
        result = publish(settings, run_id)
    except PublishError as exc:
        path = report_failure(kind="publication failed", summary=f"publication failed: {exc}")
        raise StageFailure(str(exc), path) from None
    log.info(
        "published run %s to %s (%s)",
        result.run_id,
        result.serving_path,
        ", ".join(f"{k}={v}" for k, v in sorted(result.row_counts.items())),
    )
    return result
