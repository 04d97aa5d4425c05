"""Mart gate (SPEC §4): after ``dbt build``, before publication, judge the marts in one result.

:func:`run_mart_gate` runs, on the build DB:

1. **schema checks** (:mod:`.schema`): every mart table and column the gate reads exists;
2. **expectations** (:mod:`.suite`): the Great Expectations suite ``expectations/marts.json``
   (ranges, rates in [0, 1], no negative money, keys, enumerations, funnel consistency) on pandas
   DataFrames, for the tables that passed the schema checks;
3. **reconciliations** (:mod:`.reconcile`, raw side in :mod:`.raw_latest`): spend, net revenue
   and every order key of the marts against the latest raw rows, computed independently of dbt.

The result (:mod:`.result`) keeps a *data failure* (the marts are wrong: no publication, no retry)
apart from a *validator error* (GX or a query crashed: the data was not judged; never a pass, never
reported as bad data). It never raises: the Airflow and CLI wiring is :func:`growthops.gate.stage.mart_gate`,
which turns a failed result into its report and :class:`growthops.failures.StageFailure`.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from growthops.config import Settings
from growthops.gate.reconcile import reconciliation_checks
from growthops.gate.result import CheckResult, GateResult
from growthops.gate.schema import existing_columns, schema_checks
from growthops.gate.suite import SUITE_PATH, gx_checks, load_suite
from growthops.logs import get_logger

log = get_logger(__name__)


def run_mart_gate(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    suite_path: Path = SUITE_PATH,
) -> GateResult:
    """Judge the marts of the build DB (``con``'s current database): expectations + reconciliations.

    Never raises for bad data or a crashing validator: read :attr:`GateResult.status`.
    """
    started = time.monotonic()
    checks: list[CheckResult] = []
    timings: dict[str, float] = {}
    try:
        con.execute("set enable_progress_bar = false")  # no terminal bars in task logs
        suite = load_suite(suite_path)
        existing = existing_columns(con)
        checks += schema_checks(suite, existing)
        ok_tables = [c.table for c in checks if c.kind == "schema" and c.passed and c.table]
        phase = time.monotonic()
        checks += gx_checks(con, suite, ok_tables, {"reactivation_days": settings.reactivation_days}, timings)
        timings["expectations"] = time.monotonic() - phase
        phase = time.monotonic()
        checks += reconciliation_checks(con, settings, existing)
        timings["reconciliations"] = time.monotonic() - phase
    except Exception as exc:  # the gate itself broke: never a pass
        checks.append(
            CheckResult(
                name="mart gate",
                kind="schema",
                table=None,
                passed=False,
                error=f"{type(exc).__name__}: {exc}",
            )
        )
    result = GateResult(checks=checks, seconds=time.monotonic() - started, timings=timings)
    log.info(result.message())
    return result
