"""Quarantine: move a refused file, byte-identical, out of landing, with a report beside it.

``<data>/quarantine/<source>/<day>/<file>`` plus ``<file>.report.md`` (for people) and
``<file>.report.json`` (for tools): what failed, observed vs expected, sample bad rows with their
line numbers, and how to replay. If a *different* file of the same name is already quarantined
there, the new one is stored as ``<stem>@<sha12>.<ext>`` so no quarantined file is ever
overwritten. The move is verified by sha256 before the landing copy disappears.

The quarantine is always under the local data root, also when the landing is object storage: the
file is downloaded, verified and only then deleted from the bucket (:func:`.storage.move`). The
ingest tasks run where the build warehouse is written (one writer), so the quarantine, the run
reports and ``growthops status``/``replay`` are on that host; ``replay --from-quarantine`` uploads
the corrected file back to the landing URL.

Dropping a corrected file back into ``<landing>/<source>/<day>/`` reprocesses it: the ledger never
treats a quarantined sha256 as done.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from growthops import next_steps
from growthops.config import Settings
from growthops.errors import QualityReport
from growthops.ingest import storage
from growthops.ingest.landing import LandingFile


def _sha256(path: Path) -> str:
    return storage.sha256_of(path)


def quarantine_target(settings: Settings, file: LandingFile, sha256: str) -> Path:
    """Where ``file`` goes: its own name, unless a different file already sits there."""
    folder = settings.quarantine_dir / file.source / file.day.isoformat()
    target = folder / file.name
    if target.exists() and _sha256(target) != sha256:
        stem, dot, ext = file.name.rpartition(".")
        target = folder / f"{stem}@{sha256[:12]}{dot}{ext}"
    return target


def move_file(src: Path | Any, dst: Path | Any, sha256: str) -> None:
    """Move ``src`` to ``dst`` byte-identical (rename, or copy + verify + delete across devices or
    between object storage and the local disk); raises ``OSError`` and leaves ``src`` if it cannot."""
    storage.move(src, dst, sha256)


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
