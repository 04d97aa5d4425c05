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

from growthops import next_steps
from growthops.config import Settings, load_settings
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
    "build database lost": "The build database lost history BI's version or its ledger has; nothing loaded.",
}
DATA_KINDS = {"raw gate failed", "reject threshold exceeded", "contract mismatch"}
BUILD_KINDS = {
    "dbt model error",
    "dbt test failure",
    "mart gate failed",
    "publication failed",
    "raw sync failed",
}

# Several reports of one CLI invocation are numbered, never overwritten.
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
            batches += ", served again by a rollback" if v.get("rolled_back") else ""
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


# ------------------------------------------------------------------------------ where it runs

from growthops.report_context import (  # noqa: E402  (re-exported: the reports' public API)
    _airflow_context,
    _cli_context,
    _current_context,
    is_final_try,
)

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
        cmds += next_steps.commands_for_file(src, day, quarantined_to=report.quarantined_to, kind=report.kind)
    if report.kind in BUILD_KINDS or report.kind == "transient failure" or not (src and day):
        rerun = _rerun_command(report)
        if rerun:
            cmds.append(rerun)
    cmds.append(next_steps.status())
    if report.serving_version:
        cmds.append(next_steps.rollback(report.serving_version.get("run_id")))
    return cmds


# ------------------------------------------------------------------------------ writing


def _serving_version(settings: Settings) -> dict[str, Any] | None:
    """What BI reads: the last publication or rollback in the serve stage's journal
    ``<warehouse>/versions/HISTORY.jsonl`` (read as a file: a report never opens a DuckDB file
    that a BI client or a publisher may hold)."""
    path = settings.versions_dir / "HISTORY.jsonl"
    if not path.exists():
        return None
    last = None
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except ValueError:  # a torn last line after a crash
            continue
        if isinstance(event, dict) and event.get("event") in ("publish", "rollback"):
            last = event
    if last is None:
        return None
    published = str(last.get("published_at") or last.get("at") or "")
    return {
        "run_id": last.get("run_id"),
        "published_at": published[:19],
        "version_file": last.get("version_file"),
        "source_batches": last.get("source_batches"),
        "rolled_back": last.get("event") == "rollback",
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


def dbt_failure_report(exc: Any, settings: Settings) -> FailureReport:
    """A FailureReport for a ``DbtFailure`` (see :mod:`growthops.dbt_reports`)."""
    from growthops.dbt_reports import dbt_failure_report as _report

    return _report(exc, settings)


def report_dbt_failure(exc: Any, settings: Settings | None = None) -> Path:
    """Write the report of a ``DbtFailure`` (never raises: a plain report if the facts are unreadable)."""
    from growthops.dbt_reports import report_dbt_failure as _report

    return _report(exc, settings)
