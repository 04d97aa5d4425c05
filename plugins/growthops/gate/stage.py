"""The gate stage: audit the built marts before anything is published (write-audit-publish)."""

from __future__ import annotations

import contextlib
from typing import Any

from growthops.build.stage import on_postgres
from growthops.config import Settings
from growthops.failures import StageFailure, stage_policy
from growthops.logs import get_logger

log = get_logger(__name__)


def mart_gate(settings: Settings, full: bool = False) -> Any:
    """Reconcile the built marts with raw and check ranges; fail with observed vs expected.

    The daily gate judges the days touched since the served publication plus global totals; a
    full gate every day (``full``, ``[gate] scope = "full"``, nothing published yet, or no full
    gate passed in ``[gate] full_every_days``): :func:`growthops.gate.scope.requested_scope`.
    """
    from growthops.build.postgres import PgWarehouseError
    from growthops.gate.mart_gate import run_mart_gate
    from growthops.gate.postgres import gate_connection
    from growthops.gate.scope import record_full_gate, requested_scope
    from growthops.warehouse import connection

    with stage_policy(
        settings,
        kind="mart gate failed",
        # e.g. dbt built no marts: nothing to judge, nothing to publish
        failed="the mart gate could not read the PostgreSQL marts, nothing was published",
        transient="the mart gate could not read the build warehouse",
        data_errors=(PgWarehouseError,),
    ):
        scope = requested_scope(settings, full=full)
        if on_postgres(settings):
            # DuckDB's raw tables + exact copies of PostgreSQL's unpublished marts_build
            with contextlib.closing(gate_connection(settings)) as con:
                result = run_mart_gate(settings, con, scope=scope)
        else:
            with connection(settings.warehouse_path, read_only=True) as con:
                result = run_mart_gate(settings, con, scope=scope)
    if result.passed:
        if result.scope.full:
            record_full_gate(settings)
        for line in result.lines():
            log.info("%s", line)
        return result
    _fail(settings, result)


def _fail(settings: Settings, result: Any) -> None:
    """Log what failed (not the dozens of passed checks), write the report, raise StageFailure."""
    from growthops.reports import write_report

    bad = [line for line in result.lines() if not line.startswith("ok ")]
    for line in bad:
        log.info("%s", line)
    log.info("%d of %d mart gate checks passed", len(result.lines()) - len(bad), len(result.lines()))
    if result.validator_error:
        what = f"the mart gate validator crashed: {result.validator_error}"
    else:
        failed = result.failed
        what = f"mart gate failed {len(failed)} check(s): " + ", ".join(c.name for c in failed[:5])
    report = result.to_failure_report()  # kind, checks with observed vs expected, sample rows
    report.summary = what + " — nothing was published"
    files = list(dict.fromkeys(str(r["source_file"]) for r in report.sample_rows if r.get("source_file")))
    if files and not report.source_file:  # the export files the sample rows come from
        report.source_file = ", ".join(files[:5]) + (f" (+{len(files) - 5} more)" if len(files) > 5 else "")
    path = write_report(report, settings)
    raise StageFailure(what, path)
