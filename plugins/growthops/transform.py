"""The transform stages outside dbt: mart gate and publication, shared by the transform DAG,
``growthops backfill`` and ``growthops replay``.

Each stage raises a :class:`StageFailure` carrying the one-screen report it already wrote; the
Airflow task turns it into ``AirflowFailException`` (a data failure is never retried).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from growthops.config import Settings
from growthops.logs import get_logger
from growthops.reports import report_dbt_failure, report_failure, report_if_final_try, write_report

log = get_logger(__name__)


def _transient_types() -> tuple[type[BaseException], ...]:
    """Errors a retry can fix: a lock on a DuckDB file, an I/O hiccup, PostgreSQL unreachable."""
    import duckdb

    from growthops.errors import TransientError
    from growthops.pg_warehouse import transient_errors
    from growthops.warehouse import WarehouseLocked

    return (TransientError, WarehouseLocked, duckdb.IOException, OSError, *transient_errors())


def on_postgres(settings: Settings) -> bool:
    """dbt builds in PostgreSQL (``[warehouse] target = "postgres"``), not in the DuckDB file."""
    return settings.warehouse_target == "postgres"


def sync_warehouse(settings: Settings) -> Any:
    """Target ``postgres``: mirror the DuckDB raw tables into PostgreSQL before dbt runs (one
    transaction; only new and replaced batches are copied). Target ``duckdb``: nothing to do."""
    if not on_postgres(settings):
        return None
    from growthops.pg_warehouse import PgWarehouseError, describe, sync_raw

    try:
        return sync_raw(settings)
    except PgWarehouseError as exc:
        path = report_failure(
            kind="raw sync failed",
            summary=f"copying the raw tables to {describe(settings)} failed, nothing was built: {exc}",
            details={"error": str(exc)},
            settings=settings,
        )
        raise StageFailure(str(exc), path) from None
    except _transient_types() as exc:
        report_if_final_try(
            exc,
            summary=f"the raw sync to {describe(settings)} failed on a transient error: {exc}",
            settings=settings,
        )
        raise


def release_dbt_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an in-process run.

    dbt-duckdb caches its environment (and with it the open database) on the connection manager
    class; until it is closed no other connection of this process can open the build DB with a
    different configuration (read-only), and no other process can open it at all.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt-duckdb not installed (another warehouse target)
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if env is not None:
            try:
                env.close()
            except Exception as exc:  # closing is best effort; the next open reports real trouble
                log.debug("closing the dbt-duckdb environment failed: %s", exc)


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
    """``dbt seed`` + ``dbt build`` (models, snapshot, data and unit tests) in one in-process run
    (on PostgreSQL after :func:`sync_warehouse`)."""
    from growthops.dbt_runner import DbtFailure, invoke
    from growthops.warehouse import is_lock_error

    sync_warehouse(settings)
    cmd = ["build"] + (["--full-refresh"] if full_refresh else [])
    try:
        return invoke(settings, cmd)
    except DbtFailure as exc:
        if exc.result.exception and is_lock_error(Exception(exc.result.exception)):
            report_if_final_try(
                exc,
                summary=f"dbt build could not lock the warehouse: {exc.result.exception}",
                settings=settings,
            )
            raise
        path = report_dbt_failure(exc, settings)
        raise StageFailure(str(exc), path) from None
    finally:
        release_dbt_duckdb()


def mart_gate(settings: Settings) -> Any:
    """Reconcile the built marts with raw and check ranges; fail with observed vs expected."""
    from growthops.mart_gate import run_mart_gate
    from growthops.pg_warehouse import PgWarehouseError, gate_connection
    from growthops.warehouse import connection

    try:
        if on_postgres(settings):
            # DuckDB's raw tables + exact copies of PostgreSQL's unpublished marts_build
            with contextlib.closing(gate_connection(settings)) as con:
                result = run_mart_gate(settings, con)
        else:
            with connection(settings.warehouse_path, read_only=True) as con:
                result = run_mart_gate(settings, con)
    except PgWarehouseError as exc:  # e.g. dbt built no marts: nothing to judge, nothing to publish
        path = report_failure(
            kind="mart gate failed",
            summary=f"the mart gate could not read the PostgreSQL marts, nothing was published: {exc}",
            details={"error": str(exc)},
            settings=settings,
        )
        raise StageFailure(str(exc), path) from None
    except _transient_types() as exc:
        report_if_final_try(
            exc, summary=f"the mart gate could not read the build warehouse: {exc}", settings=settings
        )
        raise
    if result.passed:
        for line in result.lines():
            log.info("%s", line)
        return result
    # a failed gate: the log shows what failed (then the report), not the dozens of passed checks
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


def publish_marts(settings: Settings, run_id: str) -> Any:
    """Publish schema ``marts`` of the build DB to the serving file (write-audit-publish); on
    PostgreSQL swap the audited ``marts_build`` schema with ``marts`` in one transaction."""
    from growthops.pg_warehouse import PgWarehouseError
    from growthops.pg_warehouse import publish as publish_postgres
    from growthops.publish import PublishError, publish

    try:
        result = publish_postgres(settings, run_id) if on_postgres(settings) else publish(settings, run_id)
    except (PublishError, PgWarehouseError) as exc:
        path = report_failure(
            kind="publication failed",
            summary=f"publication of run {run_id} failed, nothing was published: {exc}",
            details={"error": str(exc)},
            settings=settings,
        )
        raise StageFailure(str(exc), path) from None
    except _transient_types() as exc:
        report_if_final_try(
            exc,
            summary=f"publication of run {run_id} failed on a lock or I/O error: {exc}",
            settings=settings,
        )
        raise
    log.info(
        "published run %s to %s (%s)",
        result.run_id,
        result.serving_path,
        ", ".join(f"{k}={v}" for k, v in sorted(result.row_counts.items())),
    )
    return result
