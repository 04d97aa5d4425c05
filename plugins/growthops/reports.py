"""One-screen failure reports (SPEC §7), written by the failing task itself.

A report goes to the task log and to ``<data>/runs/<dag_id>/<run_id>/<task_id>.md`` with a
machine-readable ``.json`` beside it. It says what failed in one sentence, where (DAG, task, run,
try), which file (and its sha256), the failed checks with observed vs expected, up to 10 sample
bad rows with line numbers, what was quarantined, which marts version BI still reads, and the
exact command to replay or roll back.

It is written by the task (not by an on-failure callback: Airflow 3 callbacks do not fire for
killed tasks), before the task raises.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
}


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
    written_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_markdown(self) -> str:
        lines = [f"# FAILED: {self.summary}", ""]
        lines.append(f"- kind: **{self.kind}** — {KINDS.get(self.kind, '')}".rstrip(" —"))
        where = f"{self.dag_id} / {self.task_id} / {self.run_id}"
        if self.try_number is not None:
            where += f" (try {self.try_number})"
        lines.append(f"- where: {where}")
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
            lines.append(
                f"- BI still reads marts version run_id `{v.get('run_id')}` published {v.get('published_at')}"
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
                lines.append(f"| {c.name} | {_cell(c.observed)} | {_cell(c.expected)} | {_cell(c.detail)} |")
        if self.sample_rows:
            lines += ["", f"## Sample bad rows (up to {MAX_SAMPLE_ROWS})", ""]
            keys = list(dict.fromkeys(k for r in self.sample_rows for k in r))
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


def _airflow_context() -> dict[str, Any]:
    try:
        from airflow.sdk import get_current_context

        ctx = get_current_context()
    except Exception:
        return {}
    ti = ctx.get("ti")
    return {
        "dag_id": getattr(ti, "dag_id", None) or ctx["dag"].dag_id,
        "task_id": getattr(ti, "task_id", "unknown"),
        "run_id": ctx.get("run_id") or getattr(ti, "run_id", "unknown"),
        "try_number": getattr(ti, "try_number", None),
    }


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", part)


def report_path(settings: Settings, dag_id: str, run_id: str, task_id: str) -> Path:
    return settings.runs_dir / _safe(dag_id) / _safe(run_id) / f"{_safe(task_id)}.md"


def default_commands(report: FailureReport) -> list[str]:
    cmds = []
    if report.source and report.day:
        cmds.append(
            f"growthops replay {report.source} {report.day}"
            + (" --from-quarantine" if report.quarantined_to else "")
            + "   # after fixing the file, re-ingest it and rebuild the marts"
        )
    if report.kind in {"dbt model error", "dbt test failure", "mart gate failed", "publication failed"}:
        cmds.append("growthops status   # see what BI serves and which builds failed")
    if report.serving_version:
        cmds.append(
            "growthops rollback   # only if the *published* marts are wrong: serve the previous version"
        )
    if report.kind == "transient failure":
        cmds.append(
            f"airflow tasks clear {report.dag_id} -t {report.task_id} -y   # re-run once the lock is gone"
        )
    return cmds


def write_report(report: FailureReport, settings: Settings | None = None) -> Path:
    """Fill in context, write .md and .json, log the markdown; never raises (returns the path)."""
    settings = settings or load_settings()
    for key, value in _airflow_context().items():
        if value is not None:
            setattr(report, key, value)
    if report.serving_version is None:
        try:
            from growthops.publish import current_version

            served = current_version(settings)
            report.serving_version = (
                None
                if served is None
                else {
                    "run_id": served.run_id,
                    "published_at": served.published_at.isoformat(timespec="seconds"),
                    "version_file": served.version_file,
                }
            )
        except Exception as exc:  # the report must be written even if the serving file is unreadable
            report.details.setdefault("serving version", f"could not read the serving file: {exc}")
    if not report.commands:
        report.commands = default_commands(report)
    path = report_path(settings, report.dag_id, report.run_id, report.task_id)
    text = report.to_markdown()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.with_suffix(".json").write_text(
            json.dumps(asdict(report), indent=2, default=str, sort_keys=True), encoding="utf-8"
        )
        text += f"\n(report written to {path})\n"
    except OSError as exc:
        text += f"\n(could not write the report file {path}: {exc})\n"
    log.error("%s", text)
    return path


def report_failure(kind: str, summary: str, **fields: Any) -> Path:
    checks = [c if isinstance(c, Check) else Check(**c) for c in fields.pop("checks", [])]
    return write_report(FailureReport(kind=kind, summary=summary, checks=checks, **fields))
