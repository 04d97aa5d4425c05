"""Quarantine: move a refused file, byte-identical, out of landing, with a report beside it.

``<data>/quarantine/<source>/<day>/<file>`` plus ``<file>.report.md`` (for people) and
``<file>.report.json`` (for tools): what failed, observed vs expected, sample bad rows with their
line numbers, and how to replay. If a *different* file of the same name is already quarantined
there, the new one is stored as ``<stem>@<sha12>.<ext>`` so no quarantined file is ever
overwritten. The move is verified by sha256 before the landing copy disappears.

Dropping a corrected file back into ``<landing>/<source>/<day>/`` reprocesses it: the ledger never
treats a quarantined sha256 as done.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from growthops import next_steps
from growthops.config import Settings
from growthops.errors import QualityReport
from growthops.ingest.landing import LandingFile


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def quarantine_target(settings: Settings, file: LandingFile, sha256: str) -> Path:
    """Where ``file`` goes: its own name, unless a different file already sits there."""
    folder = settings.quarantine_dir / file.source / file.day.isoformat()
    target = folder / file.name
    if target.exists() and _sha256(target) != sha256:
        stem, dot, ext = file.name.rpartition(".")
        target = folder / f"{stem}@{sha256[:12]}{dot}{ext}"
    return target


def move_file(src: Path, dst: Path, sha256: str) -> None:
    """Move ``src`` to ``dst`` byte-identical (rename, or copy + verify + delete across devices)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        src.replace(dst)
    except OSError:
        tmp = dst.with_name(dst.name + ".moving")
        shutil.copy2(src, tmp)
        if _sha256(tmp) != sha256:
            tmp.unlink(missing_ok=True)
            raise OSError(f"copy of {src} to {tmp} is not byte-identical") from None
        tmp.replace(dst)
        src.unlink()
    if _sha256(dst) != sha256:  # never happens with a rename; proves it for the copy path
        raise OSError(f"quarantined file {dst} does not match sha256 {sha256}")


def render_report(report: QualityReport) -> str:
    lines = [
        f"# Quarantined: {report.source_file}",
        "",
        f"- source: {report.source}, day {report.day}",
        f"- kind: {report.kind}",
        f"- sha256: {report.sha256}",
        f"- batch: {report.batch_id}",
        f"- rows in file: {report.rows_in_file}; bad rows: {report.rows_rejected}",
        f"- moved here (byte-identical) from landing: `{report.source_file}`; nothing was loaded, "
        "the raw tables and the marts are unchanged",
        "",
        "## What failed",
        "",
        "| rule | column | observed | expected | lines | detail |",
        "|---|---|---|---|---|---|",
    ]

    def cell(value: object) -> str:
        return str("" if value is None else value).replace("|", "\\|").replace("\n", "\\n")[:300]

    for c in report.checks:
        shown = ", ".join(str(n) for n in c.lines[:10]) + (" …" if len(c.lines) > 10 else "")
        lines.append(
            f"| {cell(c.rule)} | {cell(c.column)} | {cell(c.observed)} | {cell(c.expected)} | {shown} | {cell(c.detail)} |"
        )
    if report.sample_rows:
        lines += [
            "",
            "## Sample bad rows",
            "",
            "| line | rule | column | value | record |",
            "|---|---|---|---|---|",
        ]
        for r in report.sample_rows:
            lines.append(
                f"| {cell(r.get('line'))} | {cell(r.get('rule'))} | {cell(r.get('column'))} "
                f"| {cell(r.get('value'))} | `{cell(r.get('raw_record'))}` |"
            )
    if report.warnings:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in report.warnings]
    lines += [
        "",
        "## What to do",
        "",
        "Correct the file here (or ask the provider to re-send it), then — the ledger never treats "
        "this sha256 as done:",
        "",
        *[f"    {c}" for c in next_steps.quarantined(report.source, report.day)],
        "",
    ]
    return "\n".join(lines)


def quarantine(
    settings: Settings, file: LandingFile, sha256: str, report: QualityReport, target: Path
) -> Path:
    """Move ``file`` to ``target`` and write the reports beside it; returns the quarantined path."""
    move_file(file.path, target, sha256)
    report.quarantine_path = str(target)
    target.with_name(target.name + ".report.md").write_text(render_report(report), encoding="utf-8")
    target.with_name(target.name + ".report.json").write_text(
        json.dumps(report.to_dict(), indent=2, default=str, sort_keys=True), encoding="utf-8"
    )
    return target
