"""One-screen failure reports (SPEC §7), written by the failing task itself.

A report goes to the task log and to ``<data>/runs/<dag_id>/<run_id>/<task_id>.md`` with a
machine-readable ``.json`` beside it. It says what failed in one sentence, where (DAG, task, run,
try), which file (and its sha256), the failed checks with observed vs expected, up to 10 sample
bad rows with line numbers, what was quarantined, which marts version BI still reads, and the
exact command to replay or roll back.

It is written by the task (not by an on-failure callback: Airflow 3 callbacks do not fire for
killed tasks), before the task raises. Outside Airflow (the ``growthops`` CLI) the report goes to
``<data>/runs/cli/manual__<time>/<subcommand>.md``.

Helpers for the writers:

- :func:`report_failure` — data and code failures (fail fast, no retry);
- :func:`report_if_final_try` — transient failures (lock, I/O): only the last try reports, the
  earlier ones are retried by Airflow and only log a warning;
- :func:`report_dbt_failure` — a failed dbt model or test, with the failing rows of the test traced
  back to the export file and line they came from;
- :func:`failure_message` — the short text to raise with, so the task log ends with the summary,
  the report path and the command to run.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from growthops.config import SOURCES, Settings, load_settings
from growthops.logs import get_logger

log = get_logger(__name__)

MAX_SAMPLE_ROWS = 10

# The failure kinds the runbook documents (README "On-call runbook").
KINDS = {
    "raw gate failed": "A file broke a raw-gate expectation (data).",
    "reject threshold exceeded": "Too many bad rows in a file: the whole file was quarantined.",
    "contract mismatch": "The file's header does not match the contract or platform mapping.",
    "validator error": "The validator itself crashed; the data was not judged and nothing loaded.",
    "dbt model error": "A dbt model failed to build.",
    "dbt test failure": "A dbt data or unit test failed.",
    "mart gate failed": "Marts failed reconciliation or range checks after the build.",
    "publication failed": "The serving database could not be replaced.",
    "transient failure": "The warehouse was locked or I/O failed after all retries.",
    "raw sync failed": "Copying the raw tables to PostgreSQL failed (postgres target); nothing was built.",
}
DATA_KINDS = {"raw gate failed", "reject threshold exceeded", "contract mismatch"}
BUILD_KINDS = {
    "dbt model error",
    "dbt test failure",
    "mart gate failed",
    "publication failed",
    "raw sync failed",
}

# One CLI process = one run folder (several reports of one invocation stay together).
_CLI_STAMP = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
_WRITTEN: set[Path] = set()


@dataclass
class Check:
    name: str
    observed: Any = None
    expected: Any = None
    detail: str = ""


@dataclass
class FailureReport:
    kind: str
    summary: str
    dag_id: str = "cli"
    task_id: str = "cli"
    run_id: str = "manual"
    try_number: int | None = None
    max_tries: int | None = None
    logical_date: str | None = None
    source: str | None = None
    day: str | None = None
    source_file: str | None = None
    sha256: str | None = None
    checks: list[Check] = field(default_factory=list)
    sample_rows: list[dict[str, Any]] = field(default_factory=list)
    quarantined_to: str | None = None
    serving_version: dict[str, Any] | None = None
    commands: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    report_path: str | None = None
    written_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))

    def where(self) -> str:
        text = f"{self.dag_id} / {self.task_id} / {self.run_id}"
        if self.try_number is not None:
            of = f" of {self.max_tries + 1}" if self.max_tries is not None else ""
            text += f" (try {self.try_number}{of})"
        return text

    def to_markdown(self) -> str:
        lines = [f"# FAILED: {self.summary}", ""]
        lines.append(f"- kind: **{self.kind}** — {KINDS.get(self.kind, '')}".rstrip(" —"))
        lines.append(f"- where: {self.where()}")
        if self.source:
            lines.append(f"- source: {self.source}" + (f", day {self.day}" if self.day else ""))
        if self.source_file:
            lines.append(
                f"- file: `{self.source_file}`" + (f" (sha256 {self.sha256})" if self.sha256 else "")
            )
        if self.quarantined_to:
            lines.append(f"- quarantined to: `{self.quarantined_to}` (moved byte-identical; nothing loaded)")
        v = self.serving_version
        if v:
            batches = f", {v['source_batches']} source batches" if v.get("source_batches") is not None else ""
            lines.append(
                f"- BI still reads marts version run_id `{v.get('run_id')}` published {v.get('published_at')}"
                f"{batches} — unchanged by this failure"
            )
        else:
            lines.append("- BI: no marts version has been published yet")
        if self.checks:
            lines += [
                "",
                "## Failed checks",
                "",
                "| check | observed | expected | detail |",
                "|---|---|---|---|",
            ]
            for c in self.checks:
                lines.append(
                    f"| {_cell(c.name)} | {_cell(c.observed)} | {_cell(c.expected)} | {_cell(c.detail)} |"
                )
        if self.sample_rows:
            lines += ["", f"## Sample bad rows (up to {MAX_SAMPLE_ROWS})", ""]
            keys = list(dict.fromkeys(k for r in self.sample_rows[:MAX_SAMPLE_ROWS] for k in r))
            lines.append("| " + " | ".join(keys) + " |")
            lines.append("|" + "---|" * len(keys))
            for r in self.sample_rows[:MAX_SAMPLE_ROWS]:
                lines.append("| " + " | ".join(_cell(r.get(k)) for k in keys) + " |")
        for key, value in self.details.items():
            lines += ["", f"## {key}", "", "```"]
            lines += [str(x) for x in value] if isinstance(value, list) else [str(value)]
            lines.append("```")
        if self.commands:
            lines += ["", "## What to do", ""]
            lines += [f"    {c}" for c in self.commands]
        return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:200]


# ------------------------------------------------------------------------------ Airflow context


def _current_context() -> dict[str, Any] | None:
    """The Airflow context of the running task, or None outside a task."""
    try:
        from airflow.sdk import get_current_context

        return get_current_context()
    except Exception:
        return None


def _airflow_context() -> dict[str, Any]:
    ctx = _current_context()
    if not ctx:
        return {}
    ti = ctx.get("ti") or ctx.get("task_instance")
    dag = ctx.get("dag")
    logical = ctx.get("logical_date")
    return {
        "dag_id": getattr(ti, "dag_id", None) or getattr(dag, "dag_id", None),
        "task_id": getattr(ti, "task_id", None) or "unknown",
        "run_id": ctx.get("run_id") or getattr(ti, "run_id", None) or "unknown",
        "try_number": getattr(ti, "try_number", None),
        "max_tries": getattr(ti, "max_tries", None),
        "logical_date": logical.isoformat() if hasattr(logical, "isoformat") else None,
    }


def _cli_context() -> dict[str, Any]:
    """``cli`` / ``<subcommand>`` / ``manual__<process start>`` for the growthops CLI."""
    task = "cli"
    if Path(sys.argv[0]).name == "growthops" and len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        task = sys.argv[1]
    return {"dag_id": "cli", "task_id": task, "run_id": f"manual__{_CLI_STAMP}"}


def is_final_try(context: dict[str, Any] | None = None) -> bool:
    """True when Airflow will not retry the running task (or outside Airflow: nobody retries)."""
    ctx = context if context is not None else _current_context()
    if not ctx:
        return True
    ti = ctx.get("ti") or ctx.get("task_instance")
    if ti is None:
        return True
    server = getattr(ti, "_ti_context_from_server", None)  # what the task runner itself decides with
    should_retry = getattr(server, "should_retry", None)
    if isinstance(should_retry, bool):
        return not should_retry
    try_number, max_tries = getattr(ti, "try_number", None), getattr(ti, "max_tries", None)
    if try_number is None or max_tries is None:
        return True
    return int(try_number) > int(max_tries)


# ------------------------------------------------------------------------------ paths


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", part)


def report_path(settings: Settings, dag_id: str, run_id: str, task_id: str) -> Path:
    return settings.runs_dir / _safe(dag_id) / _safe(run_id) / f"{_safe(task_id)}.md"


def find_reports(settings: Settings, *, dag_id: str | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """Every report JSON under ``<data>/runs/`` (of ``dag_id`` if given), newest first."""
    root = settings.runs_dir / _safe(dag_id) if dag_id else settings.runs_dir
    if not root.is_dir():
        return []
    found = []
    for path in root.rglob("*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "kind" in data and "summary" in data:
            found.append((path.with_suffix(".md"), data))
    found.sort(
        key=lambda item: (item[1].get("written_at") or "", item[0].stat().st_mtime if item[0].exists() else 0)
    )
    return found[::-1]


def read_report(settings: Settings, dag_id: str, run_id: str, task_id: str) -> dict[str, Any] | None:
    """The newest report of that task in that run (``<task>.json`` or ``<task>.<n>.json``)."""
    base = report_path(settings, dag_id, run_id, task_id)
    candidates = [base.with_suffix(".json"), *base.parent.glob(f"{base.stem}.*.json")]
    existing = [p for p in candidates if p.exists()]
    if not existing:
        return None
    newest = max(existing, key=lambda p: p.stat().st_mtime)
    try:
        data = json.loads(newest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    data.setdefault("report_path", str(newest.with_suffix(".md")))
    return data


# ------------------------------------------------------------------------------ commands


def _rerun_command(report: FailureReport) -> str | None:
    """How to run the failed step again once the cause is fixed."""
    if report.dag_id == "cli":
        if Path(sys.argv[0]).name == "growthops":
            return shlex.join(["growthops", *sys.argv[1:]]) + "   # re-run the command that failed"
        return None
    if report.logical_date:
        day = report.logical_date
        return (
            f"airflow tasks clear {report.dag_id} -t '^{report.task_id}$' -s {day} -e {day} -f -d -y"
            "   # re-run the failed task and what follows it"
        )
    return (
        f"airflow dags trigger {report.dag_id}   # or: Airflow UI > run {report.run_id} > "
        f"{report.task_id} > Clear (only failed, downstream)"
    )


def default_commands(report: FailureReport) -> list[str]:
    cmds: list[str] = []
    src, day = report.source, report.day
    if src and day:
        if report.quarantined_to:
            cmds.append(
                f"growthops replay {src} {day} --from-quarantine"
                "   # after correcting the file in quarantine: re-ingest it, rebuild and publish the marts"
            )
            cmds.append(
                f"growthops replay {src} {day}"
                "   # instead, after dropping a corrected export into the landing folder"
            )
        elif report.kind == "validator error":
            cmds.append(
                f"growthops replay {src} {day}   # after fixing expectations/{src}.json or the validator "
                "(the file is still in landing)"
            )
        else:
            cmds.append(
                f"growthops replay {src} {day}   # after correcting the export: re-ingest it, rebuild and publish"
            )
    if report.kind in BUILD_KINDS or report.kind == "transient failure" or not (src and day):
        rerun = _rerun_command(report)
        if rerun:
            cmds.append(rerun)
    cmds.append("growthops status   # freshness, quarantine, what BI reads, failed builds")
    if report.serving_version:
        cmds.append(
            f"growthops rollback   # only if the marts BI reads now (run {report.serving_version.get('run_id')}) "
            "are wrong: serve the version before it (`growthops rollback --list` shows them)"
        )
    return cmds


# ------------------------------------------------------------------------------ writing


def _serving_version(settings: Settings) -> dict[str, Any] | None:
    from growthops.serve.publish import current_version

    served = current_version(settings)
    if served is None:
        return None
    return {
        "run_id": served.run_id,
        "published_at": served.published_at.isoformat(timespec="seconds"),
        "version_file": served.version_file,
        "source_batches": len(served.source_batches),
    }


def write_report(report: FailureReport, settings: Settings | None = None) -> Path:
    """Fill in context, write .md and .json, log the markdown; never raises (returns the path)."""
    settings = settings or load_settings()
    context = _airflow_context() or _cli_context()
    for key, value in context.items():
        if value is not None:
            setattr(report, key, value)
    if report.serving_version is None:
        try:
            report.serving_version = _serving_version(settings)
        except Exception as exc:  # the report must be written even if the serving file is unreadable
            report.details.setdefault("serving version", f"could not read the serving file: {exc}")
    if not report.commands:
        report.commands = default_commands(report)
    path = report_path(settings, report.dag_id, report.run_id, report.task_id)
    n = 2
    while path in _WRITTEN and report.dag_id == "cli":  # a second failure of the same CLI process
        path = path.with_name(f"{path.name.split('.')[0]}.{n}.md")
        n += 1
    report.report_path = str(path)
    text = report.to_markdown()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.with_suffix(".json").write_text(
            json.dumps(asdict(report), indent=2, default=str, sort_keys=True), encoding="utf-8"
        )
        _WRITTEN.add(path)
        text += f"\n(report written to {path})\n"
    except OSError as exc:
        text += f"\n(could not write the report file {path}: {exc})\n"
    log.error("%s", text)
    return path


def report_failure(kind: str, summary: str, **fields: Any) -> Path:
    settings = fields.pop("settings", None)
    checks = [c if isinstance(c, Check) else Check(**c) for c in fields.pop("checks", [])]
    return write_report(FailureReport(kind=kind, summary=summary, checks=checks, **fields), settings)


def failure_message(path: Path | str) -> str:
    """What to raise with: the one-sentence summary, the report path and the commands.

    Airflow logs the exception last, so the task log ends with what on-call needs; the full report
    was logged just above it.
    """
    path = Path(path)
    try:
        data = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"failed; report: {path}"
    lines = [f"FAILED ({data.get('kind')}): {data.get('summary')}", f"report: {path}"]
    if data.get("commands"):
        lines.append("what to do:")
        lines += [f"    {c}" for c in data["commands"]]
    return "\n".join(lines)


def report_if_final_try(
    exc: BaseException, kind: str = "transient failure", summary: str | None = None, **fields: Any
) -> Path | None:
    """Report a transient failure (lock, I/O) on the last try only; earlier tries just log it.

    Call it in the ``except`` branch that re-raises for Airflow to retry. Outside Airflow (CLI)
    there is no retry: it always reports. Returns the report path, or None when Airflow retries.
    """
    context = _current_context()
    if not is_final_try(context):
        info = _airflow_context()
        log.warning(
            "transient failure on try %s of %s, Airflow will retry: %s",
            info.get("try_number"),
            (info.get("max_tries") or 0) + 1,
            exc,
        )
        return None
    text = summary or f"{type(exc).__name__}: {exc}"
    details = dict(fields.pop("details", {}) or {})
    details.setdefault("error", f"{type(exc).__name__}: {exc}")
    try:
        return report_failure(kind, text.splitlines()[0][:500], details=details, **fields)
    except Exception as report_exc:  # never hide the original failure behind a reporting problem
        log.error("could not write the failure report: %s", report_exc)
        return None


# ------------------------------------------------------------------------------ dbt failures

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
        shown, where = [column], f"m.{_q(column)} is null"
    else:
        if kind in _KEY_ALIASES and column in columns and _KEY_ALIASES[kind] in failing[0]:
            pairs = [(column, _KEY_ALIASES[kind])]
        else:
            pairs = [(c, c) for c in failing[0] if c in columns]
        if not pairs:
            return []
        shown = [c for c, _ in pairs]
        cond = " and ".join(f"t.{_q(f)} is not distinct from m.{_q(c)}" for c, f in pairs)
        where = f"exists (select 1 from ({compiled}) as t where {cond})"
    cols = ", ".join(f"m.{_q(c)}" for c in dict.fromkeys([file_col, line_col, *shown]))
    rows = _rows(
        con,
        f"select {cols} from {relation} as m where {where} order by m.{_q(file_col)}, m.{_q(line_col)} limit ?",
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


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def dbt_failure_report(exc: Any, settings: Settings) -> FailureReport:
    """A FailureReport for a ``DbtFailure``: one check per failed node, failing rows traced to files."""
    from growthops.warehouse import connect

    result = exc.result
    target = settings.data_dir / "dbt" / "target"
    manifest = _read_json(target / "manifest.json")
    compiled_by_id = {
        r.get("unique_id"): r.get("compiled_code")
        for r in _read_json(target / "run_results.json").get("results", [])
    }
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    failures = result.failures
    kind = exc.kind if exc.kind in KINDS else "dbt model error"
    checks: list[Check] = []
    samples: list[dict[str, Any]] = []
    files: list[str] = []
    notes: list[str] = []
    sha256 = None
    con = None
    try:
        for outcome in failures:
            node = nodes.get(outcome.unique_id, {})
            path = node.get("original_file_path") or ""
            message = (outcome.message or "").strip()
            if outcome.resource_type == "test":
                relation, target_name = _relation(manifest, node)
                column = node.get("column_name") or (node.get("test_metadata") or {}).get("kwargs", {}).get(
                    "column_name"
                )
                on = f"{target_name}.{column}" if column else target_name
                checks.append(
                    Check(
                        name=f"dbt test {outcome.name}",
                        observed=f"{outcome.failures if outcome.failures is not None else '?'} failing row(s)",
                        expected="0 rows",
                        detail=f"on {on} ({path})" + (f": {message}" if message else ""),
                    )
                )
                compiled = compiled_by_id.get(outcome.unique_id)
                if not compiled or len(samples) >= MAX_SAMPLE_ROWS:
                    continue
                try:
                    if con is None:
                        con = connect(settings.warehouse_path, read_only=True, attempts=1)
                    failing = _rows(con, f"select * from ({compiled}) as t limit {MAX_SAMPLE_ROWS}")
                    traced = _trace_to_files(con, relation, compiled, node, failing) if relation else []
                except Exception as sample_exc:  # samples are a help, never a reason not to report
                    notes.append(f"could not read the failing rows of {outcome.name}: {sample_exc}")
                    continue
                if traced:
                    samples += traced
                    files += [str(r["file"]) for r in traced]
                else:
                    samples += [{"test": outcome.name, **r} for r in failing]
            elif outcome.resource_type == "unit_test":
                checks.append(
                    Check(
                        name=f"dbt unit test {outcome.name}",
                        observed=message.splitlines()[0] if message else outcome.status,
                        expected="the unit test's expected rows",
                        detail=path,
                    )
                )
            else:
                checks.append(
                    Check(
                        name=f"dbt {outcome.resource_type} {outcome.name}",
                        observed=_dbt_error(message) or outcome.status,
                        expected="builds without error",
                        detail=path,
                    )
                )
                files.append(path)
        data_files = [f for f in dict.fromkeys(files) if f.count("/") >= 2 and f.split("/")[0] in SOURCES]
        if data_files and con is not None:
            sha256 = _ledger_sha256(con, data_files[0])
    finally:
        if con is not None:
            con.close()
    samples = samples[:MAX_SAMPLE_ROWS]
    first = failures[0] if failures else None
    if first is None:
        summary = f"dbt could not run ({result.exception or 'no node result'}); nothing was published"
    elif first.resource_type in {"test", "unit_test"}:
        what = ", ".join(o.name for o in failures[:3]) + (
            f" and {len(failures) - 3} more" if len(failures) > 3 else ""
        )
        facts = [f"{first.failures} failing row(s)"] if first.failures else []
        traced = [r for r in samples if "file" in r and "line" in r]
        if traced:
            facts.append(f"e.g. {traced[0]['file']} line {traced[0]['line']}")
        facts_text = f" ({', '.join(facts)})" if facts else ""
        summary = f"dbt test {what} failed{facts_text}; nothing downstream was built or published"
    else:
        err = _dbt_error(first.message)[:200]
        summary = f"dbt {first.resource_type} {first.name} failed to build: {err}; nothing was published"
    skipped = sum(1 for o in result.outcomes if o.status == "skipped")
    passed = len(result.outcomes) - len(failures) - skipped
    dbt_lines = [line for line in result.lines() if not line.startswith(("PASS", "SUCCESS", "OK", "SKIP"))]
    dbt_lines.append(f"{len(failures)} failed, {skipped} skipped downstream, {passed} passed")
    details: dict[str, Any] = {"dbt": dbt_lines}
    if notes:
        details["notes"] = notes
    source = day = None
    data_files = [f for f in dict.fromkeys(files) if f.count("/") >= 2 and f.split("/")[0] in SOURCES]
    if data_files:
        parts = data_files[0].split("/")
        source, day = parts[0], parts[1]
    return FailureReport(
        kind=kind,
        summary=summary,
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
