"""Failure reports of dbt: one check per failed node, the failing rows of a test traced back to the
export file and line they came from (:func:`dbt_failure_report`), written by
:func:`report_dbt_failure`. Split from :mod:`growthops.reports` (the report format and writer).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from growthops.config import SOURCES, Settings, load_settings
from growthops.reports import KINDS, MAX_SAMPLE_ROWS, Check, FailureReport, write_report
from growthops.sql import quote

_LINEAGE = (("_source_file", "_source_line"), ("source_file", "source_line"))
_NULL_TESTS = {"not_null", "fx_rate_is_available"}
_KEY_ALIASES = {"unique": "unique_field", "accepted_values": "value_field", "relationships": "from_field"}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _relation(manifest: dict[str, Any], node: dict[str, Any]) -> tuple[str | None, str | None]:
    """(relation name, display name) of the model or source a test reads."""
    attached = node.get("attached_node")
    deps = node.get("depends_on", {}).get("nodes", [])
    uid = attached or next(
        (d for d in deps if d.startswith(("model.", "source.", "snapshot.", "seed."))), None
    )
    if uid is None:
        return None, None
    target = manifest.get("nodes", {}).get(uid) or manifest.get("sources", {}).get(uid) or {}
    name = target.get("name")
    if uid.startswith("source."):
        name = f"{target.get('source_name')}.{name}"
    return target.get("relation_name"), name


def _rows(con: Any, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, (_plain(v) for v in row), strict=True)) for row in cur.fetchall()]


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _trace_to_files(
    con: Any, relation: str, compiled: str, test: dict[str, Any], failing: list[dict]
) -> list[dict]:
    """The rows of ``relation`` behind the failing rows of a test, with export file and line."""
    columns = [r[0] for r in con.execute(f"select * from {relation} limit 0").description]
    lineage = next((pair for pair in _LINEAGE if set(pair) <= set(columns)), None)
    if lineage is None or not failing:
        return []
    meta = test.get("test_metadata") or {}
    kind, kwargs = meta.get("name"), meta.get("kwargs") or {}
    column = test.get("column_name") or kwargs.get("column_name")
    file_col, line_col = lineage
    if kind in _NULL_TESTS and column in columns:
        shown, where = [column], f"m.{quote(column)} is null"
    else:
        if kind in _KEY_ALIASES and column in columns and _KEY_ALIASES[kind] in failing[0]:
            pairs = [(column, _KEY_ALIASES[kind])]
        else:
            pairs = [(c, c) for c in failing[0] if c in columns]
        if not pairs:
            return []
        shown = [c for c, _ in pairs]
        cond = " and ".join(f"t.{quote(f)} is not distinct from m.{quote(c)}" for c, f in pairs)
        where = f"exists (select 1 from ({compiled}) as t where {cond})"
    cols = ", ".join(f"m.{quote(c)}" for c in dict.fromkeys([file_col, line_col, *shown]))
    rows = _rows(
        con,
        f"select {cols} from {relation} as m where {where} order by m.{quote(file_col)}, m.{quote(line_col)} limit ?",
        [MAX_SAMPLE_ROWS],
    )
    return [{"file": r.pop(file_col), "line": r.pop(line_col), "test": test.get("name"), **r} for r in rows]


def _ledger_sha256(con: Any, source_file: str) -> str | None:
    """sha256 of the loaded export ``source_file`` (``<source>/<day>/<file>``) from the load ledger."""
    try:
        row = con.execute(
            "select sha256 from raw.load_ledger where source_file = ? and status in ('loaded', 'loaded_with_rejects')"
            " order by superseded_by nulls first, finished_at desc limit 1",
            [source_file],
        ).fetchone()
    except Exception:  # no ledger (a warehouse loaded by other means): the sha is a nicety
        return None
    return row[0] if row else None


def _dbt_error(message: str) -> str:
    """The line of a dbt error that says what is wrong (not "Runtime Error in model x (path)")."""
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    useful = [
        line for line in lines if not re.match(r"^(Runtime|Database|Compilation|Parsing) Error in ", line)
    ]
    return (useful or lines or [""])[0][:300]


def open_build(settings: Settings) -> Any:
    """The build DB for reading failing rows: read-only, or - when this process already holds it
    read-write (the in-process dbt runner) - through that same configuration, never a second,
    differently configured connection (DuckDB refuses those)."""
    import duckdb

    from growthops.warehouse import connect

    try:
        return connect(settings.warehouse_path, read_only=True, attempts=1)
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise
    try:
        return connect(settings.warehouse_path, attempts=1)
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise
    # dbt-duckdb opens the file with its profile's config_options (none: its settings are SET
    # after connecting), so the same-process instance is reached with no config at all
    return duckdb.connect(str(settings.warehouse_path))


def dbt_failure_report(exc: Any, settings: Settings) -> FailureReport:
    """A FailureReport for a ``DbtFailure``: one check per failed node, failing rows traced to files;
    a missing fx rate is explained by currency, days, rows affected and files."""
    report = _dbt_failure_facts(exc, settings)
    _explain_schema_drift(report, exc, settings)
    if any("fx_rate_is_available" in (o.name or "") for o in exc.result.failures):
        try:
            _explain_fx(report, settings)
        except Exception as fx_exc:  # an explanation is a help, never a reason not to report
            report.details.setdefault("notes", []).append(f"could not explain the missing fx rate: {fx_exc}")
    return report


# dbt's message when an incremental model's columns differ from its stored table (on_schema_change: fail)
SCHEMA_DRIFT = "schemas on this incremental model are out of sync"


def _explain_schema_drift(report: FailureReport, exc: Any, settings: Settings) -> None:
    """An incremental table built by an earlier version of the project: say so, and how to rebuild.

    A release can add columns to an incremental model (e.g. DECISIONLOG 72, 75); its stored table
    then cannot be extended, and dbt stops. Nothing is wrong with the data: one full refresh
    rebuilds the incremental tables, and a backfill of the newest export day does that without
    loading anything again (its files are skipped as already loaded)."""
    drifted = [
        o.name
        for o in exc.result.failures
        if o.resource_type == "model" and SCHEMA_DRIFT in (o.message or "")
    ]
    if not drifted:
        return
    day = "<newest export day>"
    try:
        con = open_build(settings)
        try:
            (newest,) = con.execute("select max(day) from raw.load_ledger").fetchone()
        finally:
            con.close()
        if newest is not None:
            day = str(newest)
    except Exception as ledger_exc:  # the command with a placeholder is still the fix
        report.details.setdefault("notes", []).append(f"could not read the newest export day: {ledger_exc}")
    report.summary = (
        f"the stored table of {', '.join(drifted)} was built by an earlier version of the project "
        "(its columns differ from the model's), so an incremental build cannot extend it; nothing is "
        "wrong with the data: rebuild the incremental tables once with a full refresh, then the "
        "daily runs go on"
    )
    report.commands = [
        f"growthops backfill --start {day} --end {day} --full-refresh"
        "   # a full dbt build, gate and publication; the day's files are skipped (already loaded)"
    ]


def fx_gaps(con: Any, reporting_currency: str) -> list[dict[str, Any]]:
    """Per source and currency without a rate on or before the day: days, rows, files, a sample line."""
    rep = reporting_currency.upper()
    cur = con.execute(
        """
        with rates as (
            select upper(trim(currency)) as currency, min(cast(date as date)) as first_day
            from raw.fx_rates group by 1
        ),
        needs as (
            select 'orders' as source, upper(trim(currency)) as currency, cast(created_at as date) as day,
                   order_id as row_key, _source_file as file, _source_line as line
            from raw.shop_orders
            union all
            select 'channel', upper(trim(currency)), cast(date as date), campaign_id, _source_file, _source_line
            from raw.channel_performance
        )
        select n.source, n.currency, min(n.day) as first_day, max(n.day) as last_day,
               count(distinct n.row_key) as rows_affected,
               list(distinct n.file order by n.file) as files,
               arg_min(n.file || ' line ' || n.line, n.file || lpad(n.line::varchar, 12, '0')) as example
        from needs as n left join rates as r on r.currency = n.currency
        where n.currency not in ('USD', ?) and (r.currency is null or n.day < r.first_day)
        group by all order by n.currency, n.source
        """,
        [rep],
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _explain_fx(report: FailureReport, settings: Settings) -> None:
    con = open_build(settings)
    try:
        gaps = fx_gaps(con, settings.reporting_currency)
    finally:
        con.close()
    if not gaps:
        return
    what = {"orders": "order(s)", "channel": "spend row(s)"}
    checks, parts = [], []
    for g in gaps:
        files = g["files"] if isinstance(g["files"], list) else [g["files"]]
        shown = ", ".join(str(f) for f in files[:5]) + (
            f" (+{len(files) - 5} more)" if len(files) > 5 else ""
        )
        days = g["first_day"] if g["first_day"] == g["last_day"] else f"{g['first_day']}..{g['last_day']}"
        parts.append(f"{g['currency']} {days}: {g['rows_affected']} {what[g['source']]}")
        checks.append(
            Check(
                name=f"fx rate for {g['currency']} ({g['source']})",
                observed=f"no rate on or before {days}; {g['rows_affected']} {what[g['source']]} in {shown}",
                expected=f"a {g['currency']} row in fx/<day>/rates.csv dated on or before {g['first_day']}",
                detail=f"e.g. {g['example']}",
            )
        )
    report.checks = checks + report.checks
    report.summary = (
        "no fx rate for " + "; ".join(parts) + " — they are never dropped or converted at 1, so nothing was "
        "published: deliver the rates (fx/<day>/rates.csv), then re-run"
    )
    # the fix is a rates file for the first day without a rate: replay fx for that day
    report.source, report.day = "fx", str(min(g["first_day"] for g in gaps))


def _outcome_check(outcome: Any, node: dict[str, Any], manifest: dict[str, Any]) -> Check:
    """The report's check line of one failed dbt node (data test, unit test, model or other)."""
    path = node.get("original_file_path") or ""
    message = (outcome.message or "").strip()
    if outcome.resource_type == "test":
        _, target_name = _relation(manifest, node)
        kwargs = (node.get("test_metadata") or {}).get("kwargs", {})
        column = node.get("column_name") or kwargs.get("column_name")
        on = f"{target_name}.{column}" if column else target_name
        return Check(
            name=f"dbt test {outcome.name}",
            observed=f"{outcome.failures if outcome.failures is not None else '?'} failing row(s)",
            expected="0 rows",
            detail=f"on {on} ({path})" + (f": {message}" if message else ""),
        )
    if outcome.resource_type == "unit_test":
        return Check(
            name=f"dbt unit test {outcome.name}",
            observed=message.splitlines()[0] if message else outcome.status,
            expected="the unit test's expected rows",
            detail=path,
        )
    return Check(
        name=f"dbt {outcome.resource_type} {outcome.name}",
        observed=_dbt_error(message) or outcome.status,
        expected="builds without error",
        detail=path,
    )


class _FailingRows:
    """The failing rows of failed data tests, traced to their export files where the lineage allows;
    the build DB is opened on first use (read-only when it can be) and closed by :meth:`close`."""

    def __init__(self, settings: Settings, manifest: dict[str, Any], compiled_by_id: dict[str, Any]):
        self.settings, self.manifest, self.compiled_by_id = settings, manifest, compiled_by_id
        self.con = None
        self.samples: list[dict[str, Any]] = []
        self.notes: list[str] = []

    def add(self, outcome: Any, node: dict[str, Any]) -> list[str]:
        """Add the failing rows of one failed data test; returns the export files they trace to."""
        compiled = self.compiled_by_id.get(outcome.unique_id)
        if not compiled or len(self.samples) >= MAX_SAMPLE_ROWS:
            return []
        relation, _ = _relation(self.manifest, node)
        try:
            if self.con is None:
                self.con = open_build(self.settings)
            failing = _rows(self.con, f"select * from ({compiled}) as t limit {MAX_SAMPLE_ROWS}")
            traced = _trace_to_files(self.con, relation, compiled, node, failing) if relation else []
        except Exception as exc:  # samples are a help, never a reason not to report
            self.notes.append(f"could not read the failing rows of {outcome.name}: {exc}")
            return []
        if traced:
            self.samples += traced
            return [str(r["file"]) for r in traced]
        self.samples += [{"test": outcome.name, **r} for r in failing]
        return []

    def sha256(self, data_files: list[str]) -> str | None:
        """The ledger's sha256 of the first export file named (None without one or a connection)."""
        return _ledger_sha256(self.con, data_files[0]) if data_files and self.con is not None else None

    def close(self) -> None:
        if self.con is not None:
            self.con.close()


def _export_files(files: list[str]) -> list[str]:
    """The paths among ``files`` that are landing export files (``<source>/<day>/<file>``), in order."""
    return [f for f in dict.fromkeys(files) if f.count("/") >= 2 and f.split("/")[0] in SOURCES]


def _failure_summary(result: Any, failures: list[Any], samples: list[dict[str, Any]]) -> str:
    """The report's one-line summary: what failed first, and that nothing was published."""
    first = failures[0] if failures else None
    if first is None:
        return f"dbt could not run ({result.exception or 'no node result'}); nothing was published"
    if first.resource_type in {"test", "unit_test"}:
        what = ", ".join(o.name for o in failures[:3]) + (
            f" and {len(failures) - 3} more" if len(failures) > 3 else ""
        )
        facts = [f"{first.failures} failing row(s)"] if first.failures else []
        traced = [r for r in samples if "file" in r and "line" in r]
        if traced:
            facts.append(f"e.g. {traced[0]['file']} line {traced[0]['line']}")
        facts_text = f" ({', '.join(facts)})" if facts else ""
        return f"dbt test {what} failed{facts_text}; nothing downstream was built or published"
    err = _dbt_error(first.message)[:200]
    return f"dbt {first.resource_type} {first.name} failed to build: {err}; nothing was published"


def _dbt_failure_facts(exc: Any, settings: Settings) -> FailureReport:
    """The report of a failed ``dbt build``: a check per failed node, the failing rows of the failed
    data tests traced to their export files, and dbt's own lines."""
    result = exc.result
    target = settings.data_dir / "dbt" / "target"
    manifest = _read_json(target / "manifest.json")
    compiled_by_id = {
        r.get("unique_id"): r.get("compiled_code")
        for r in _read_json(target / "run_results.json").get("results", [])
    }
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    failures = result.failures
    checks: list[Check] = []
    files: list[str] = []
    rows = _FailingRows(settings, manifest, compiled_by_id)
    try:
        for outcome in failures:
            node = nodes.get(outcome.unique_id, {})
            checks.append(_outcome_check(outcome, node, manifest))
            if outcome.resource_type == "test":
                files += rows.add(outcome, node)
            elif outcome.resource_type != "unit_test":
                files.append(node.get("original_file_path") or "")
        sha256 = rows.sha256(_export_files(files))
    finally:
        rows.close()
    samples = rows.samples[:MAX_SAMPLE_ROWS]
    skipped = sum(1 for o in result.outcomes if o.status == "skipped")
    passed = len(result.outcomes) - len(failures) - skipped
    dbt_lines = [line for line in result.lines() if not line.startswith(("PASS", "SUCCESS", "OK", "SKIP"))]
    dbt_lines.append(f"{len(failures)} failed, {skipped} skipped downstream, {passed} passed")
    details: dict[str, Any] = {"dbt": dbt_lines}
    if rows.notes:
        details["notes"] = rows.notes
    data_files = _export_files(files)
    source, day = data_files[0].split("/")[:2] if data_files else (None, None)
    return FailureReport(
        kind=exc.kind if exc.kind in KINDS else "dbt model error",
        summary=_failure_summary(result, failures, samples),
        source=source,
        day=day,
        source_file=", ".join(dict.fromkeys(files)) or None,
        sha256=sha256,
        checks=checks,
        sample_rows=samples,
        details=details,
    )


def report_dbt_failure(exc: Any, settings: Settings | None = None) -> Path:
    """Write the report of a ``DbtFailure`` (never raises: a plain report if the facts are unreadable)."""
    settings = settings or load_settings()
    try:
        report = dbt_failure_report(exc, settings)
    except Exception as facts_exc:
        report = FailureReport(
            kind=exc.kind if getattr(exc, "kind", None) in KINDS else "dbt model error",
            summary=str(exc),
            details={"dbt": exc.result.lines(), "notes": [f"could not read dbt artefacts: {facts_exc}"]},
        )
    return write_report(report, settings)
