"""Mart gate (SPEC §4): after ``dbt build``, before publication, judge the marts in one result.

:func:`run_mart_gate` runs, on the build DB:

1. **schema checks** (:mod:`.schema`): every mart table and column the gate reads exists;
2. **expectations** (:mod:`.suite`): the Great Expectations suite ``expectations/marts.json``
   (ranges, rates in [0, 1], no negative money, keys, enumerations, funnel consistency) on pandas
   DataFrames, for the tables that passed the schema checks;
3. **reconciliations** (:mod:`.reconcile`, raw side in :mod:`.raw_latest`): spend, net revenue
   and every order key of the marts against the latest raw rows, computed independently of dbt.

The **scope** (:mod:`.scope`) is every day (the full gate) or, for a daily run, the days the loads
since the served publication touched, and the days whose totals moved from it (:mod:`.served`):
expectations and per-order reconciliations on those days' rows, plus cheap per-day totals and
order counts over every day (:mod:`.totals`).

The result (:mod:`.result`) keeps a *data failure* (the marts are wrong: no publication, no retry)
apart from a *validator error* (GX or a query crashed: the data was not judged; never a pass, never
reported as bad data). It never raises: the Airflow and CLI wiring is :func:`growthops.gate.stage.mart_gate`,
which turns a failed result into its report and :class:`growthops.failures.StageFailure`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from pathlib import Path

import duckdb

from growthops.config import Settings
from growthops.gate.reconcile import reconciliation_checks
from growthops.gate.result import CheckResult, GateResult
from growthops.gate.schema import existing_columns, schema_checks
from growthops.gate.scope import FULL, SCOPE_TEMP, TOUCHED_DAYS, GateScope, touched_scope
from growthops.gate.served import SERVED_TEMP, moved_days, read_served_days
from growthops.gate.suite import SUITE_PATH, gx_checks, load_suite, warm_gx_context
from growthops.logs import get_logger

log = get_logger(__name__)


def run_mart_gate(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    suite_path: Path = SUITE_PATH,
    scope: GateScope = FULL,
) -> GateResult:
    """Judge the marts of the build DB (``con``'s current database): expectations + reconciliations.

    ``scope``: :data:`~growthops.gate.scope.FULL`, or a daily scope (``full=False`` with ``since``)
    whose touched days are computed here (a failure to compute them gates everything).
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
        warming = warm_gx_context(suite, ok_tables)  # GX's import runs beside the SQL checks
        scope = _resolve(con, settings, scope, timings)
        phase = time.monotonic()
        reconciliations = reconciliation_checks(con, settings, existing, scope)
        timings["reconciliations"] = time.monotonic() - phase
        phase = time.monotonic()
        if warming is not None:
            warming.join()
        timings["gx_import"] = time.monotonic() - phase
        parameters = {"reactivation_days": settings.reactivation_days}
        checks += gx_checks(con, suite, ok_tables, parameters, timings, scope.rows())
        timings["expectations"] = time.monotonic() - phase
        checks += reconciliations
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
    finally:
        for temp in (*SCOPE_TEMP, *SERVED_TEMP):
            with contextlib.suppress(duckdb.Error):
                con.execute(f"drop table if exists temp.{temp}")
    result = GateResult(checks=checks, seconds=time.monotonic() - started, timings=timings, scope=scope)
    log.info(result.message())
    log.info(result.timings_line())
    return result


def _resolve(
    con: duckdb.DuckDBPyConnection, settings: Settings, scope: GateScope, timings: dict[str, float]
) -> GateScope:
    """The touched days of a daily scope; the full scope when they cannot be known (the safe default)."""
    if scope.full or scope.since is None:
        return scope if scope.full else FULL
    phase = time.monotonic()
    try:
        resolved = touched_scope(con, settings, scope.since)
    except duckdb.Error as exc:
        log.warning("mart gate: the touched days are unknown (%s): gating every day", exc)
        return GateScope(full=True, reason=f"touched days unknown: {str(exc).splitlines()[0][:200]}")
    missing = read_served_days(con, settings)
    if missing is None:
        try:
            moved = moved_days(con, TOUCHED_DAYS)
        except duckdb.Error as exc:  # the build's marts lack a column: the schema checks say which
            missing = f"the build's days are unreadable: {str(exc).splitlines()[0][:200]}"
    if missing is None:
        days = tuple(sorted({*resolved.days, *moved}))
        resolved = dataclasses.replace(resolved, days=days, moved=moved, served_basis_missing=None)
    else:
        log.warning(
            "mart gate: the served publication's days are unreadable (%s): every day from raw", missing
        )
        resolved = dataclasses.replace(resolved, served_basis_missing=missing)
    timings["scope"] = time.monotonic() - phase
    log.info("mart gate scope: %s", resolved.describe())
    return resolved
