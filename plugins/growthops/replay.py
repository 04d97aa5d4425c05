"""``growthops replay <source> <day>``: re-ingest a corrected export, then rebuild and publish.

With ``--from-quarantine`` the quarantined file(s) of that source and day are moved back into
landing first (byte-identical) — after correcting them in the quarantine folder, or when a rule
or threshold was changed. Then the day goes through the same ingestion code as the daily DAG
and, unless ``--no-transform``, dbt build, mart gate and publish run once.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from growthops.config import SOURCES, Settings, load_settings

REPORT_SUFFIXES = (".report.md", ".report.json")


@dataclass
class ReplayResult:
    source: str
    day: date
    restored: list[Path] = field(default_factory=list)
    ingest: object | None = None
    published_run_id: str | None = None


def restore_from_quarantine(settings: Settings, source: str, day: date) -> list[Path]:
    """Move quarantined files of ``source``/``day`` back into landing; keep their reports aside."""
    from growthops.ingest.quarantine import _sha256, move_file

    folder = settings.quarantine_dir / source / day.isoformat()
    if not folder.exists():
        return []
    target_dir = settings.landing_dir / source / day.isoformat()
    restored = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.endswith(REPORT_SUFFIXES):
            continue
        # a second quarantined version is stored as <stem>@<sha12>.<ext>: it lands under its export name
        name = path.name.split("@")[0] + (path.suffix if "@" in path.name else "")
        dst = target_dir / name
        move_file(path, dst, _sha256(path))
        for suffix in REPORT_SUFFIXES:
            report = path.with_name(path.name + suffix)
            if report.exists():
                report.replace(report.with_name(report.name + f".replayed-{datetime.now(UTC):%Y%m%dT%H%M%S}"))
        restored.append(dst)
    return restored


def replay(
    settings: Settings,
    source: str,
    day: date,
    *,
    from_quarantine: bool = False,
    transform: bool = True,
    run_id: str | None = None,
    progress=print,
) -> ReplayResult:
    from growthops.ingest.loader import ingest_day
    from growthops.transform import build_marts, mart_gate, publish_marts

    result = ReplayResult(source, day)
    if from_quarantine:
        result.restored = restore_from_quarantine(settings, source, day)
        for p in result.restored:
            progress(f"[replay] moved back to landing: {p}")
    progress(f"[ingest] {source} {day}")
    result.ingest = ingest_day(settings, source, day)
    for o in result.ingest.outcomes:
        progress(f"  {o.source_file}: {o.status}, {o.rows_loaded} rows loaded, {o.rows_rejected} rejected")
    if not transform:
        return result
    progress("[dbt] build")
    build_marts(settings)
    progress("[gate] mart gate")
    mart_gate(settings)
    run_id = run_id or f"replay__{source}_{day}__{datetime.now(UTC):%Y%m%dT%H%M%S}"
    progress(f"[publish] {run_id}")
    result.published_run_id = publish_marts(settings, run_id).run_id
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", choices=SOURCES)
    parser.add_argument("day", type=date.fromisoformat, help="export day (YYYY-MM-DD)")
    parser.add_argument(
        "--from-quarantine",
        action="store_true",
        help="move the quarantined file(s) of that day back into landing first",
    )
    parser.add_argument(
        "--no-transform", action="store_true", help="re-ingest only; do not rebuild or publish"
    )


def run(args: argparse.Namespace) -> int:
    from growthops.errors import DataQualityError, GrowthopsError
    from growthops.transform import StageFailure

    settings = load_settings()
    try:
        result = replay(
            settings,
            args.source,
            args.day,
            from_quarantine=args.from_quarantine,
            transform=not args.no_transform,
        )
    except DataQualityError as exc:
        print(f"\nFAILED: the file is still refused:\n{exc}", file=sys.stderr)
        return 1
    except (StageFailure, GrowthopsError) as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    if result.published_run_id:
        print(f"\nreplayed {args.source} {args.day}; BI now reads run {result.published_run_id}")
    else:
        print(f"\nreplayed {args.source} {args.day} into raw (not published: --no-transform)")
    return 0
