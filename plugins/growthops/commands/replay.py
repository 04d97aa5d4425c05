"""``growthops replay <source> <day>``: re-ingest a corrected export, then rebuild and publish.

With ``--from-quarantine`` the quarantined file(s) of that source and day are moved back into
landing first (byte-identical) — after correcting them in the quarantine folder, or when a rule
or threshold was changed. Without it, a corrected export dropped into the landing folder is
replayed. Then the day goes through the same code as the daily DAG's load task (same gate, same
reports under ``<data>/runs/cli/``) and, unless ``--no-transform``, dbt build, mart gate and
publish run once: BI reads the new version only if all of them pass.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from growthops.config import SOURCES, Settings, load_settings

REPORT_SUFFIXES = (".report.md", ".report.json")
REPORT_NAME = re.compile(r"\.report\.(md|json)(\.replayed-[0-9T]+)?$")


@dataclass
class ReplayResult:
    source: str
    day: date
    restored: list[Path] = field(default_factory=list)
    ingest: dict | None = None  # the load task's summary: files, batches, rows loaded/rejected
    published_run_id: str | None = None


def _landing_name(path: Path) -> str:
    """The export name of a quarantined file: a second version ``<stem>@<sha12>.<ext>`` -> ``<stem>.<ext>``."""
    return path.name.split("@")[0] + (path.suffix if "@" in path.name else "")


def _quarantined_at(path: Path) -> float:
    report = path.with_name(path.name + REPORT_SUFFIXES[1])
    return (report if report.exists() else path).stat().st_mtime


def restore_from_quarantine(settings: Settings, source: str, day: date, *, progress=print) -> list[Path]:
    """Move quarantined files of ``source``/``day`` back into landing; keep their reports aside.

    When several quarantined versions of one export exist, the most recently quarantined one goes
    back (the others stay, listed); a file already waiting in landing under that name is never
    overwritten (that file is the correction: it is the one replayed).
    """
    from growthops.ingest.quarantine import _sha256, move_file

    folder = settings.quarantine_dir / source / day.isoformat()
    if not folder.exists():
        return []
    target_dir = settings.landing_dir / source / day.isoformat()
    by_name: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and not REPORT_NAME.search(path.name):
            by_name.setdefault(_landing_name(path), []).append(path)
    restored = []
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S}"
    for name, versions in sorted(by_name.items()):
        versions.sort(key=_quarantined_at)
        path, older = versions[-1], versions[:-1]
        for o in older:
            progress(f"[replay] left in quarantine (an older refused version of {name}): {o}")
        dst = target_dir / name
        if dst.exists():
            progress(f"[replay] {dst} is already in landing: replaying it, {path} stays in quarantine")
            continue
        move_file(path, dst, _sha256(path))
        for suffix in REPORT_SUFFIXES:
            report = path.with_name(path.name + suffix)
            if report.exists():
                report.replace(report.with_name(report.name + f".replayed-{stamp}"))
        restored.append(dst)
    return restored


def _ingest(settings: Settings, source: str, day: date) -> dict:
    """Ingest the day like the daily DAG's load task (same reports); wait once for a just-edited file."""
    import time

    from growthops.errors import NotReadyError
    from growthops.ingest.stage import load_day as load

    try:
        return load(source, day, settings=settings)
    except NotReadyError as exc:
        if "still being written" not in str(exc):
            raise
        time.sleep(settings.settle_seconds + 0.5)  # a file corrected a moment ago: let it settle once
        return load(source, day, settings=settings)


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
    """Re-ingest ``source``/``day`` and (unless ``transform=False``) build, gate and publish.

    Failures raise what the daily tasks raise, with their reports written under ``<data>/runs/``:
    ``StageFailure`` (report already written) for a refused file, a validator error, dbt, the mart
    gate and publication.
    """
    from growthops.build.stage import build_marts
    from growthops.gate.stage import mart_gate
    from growthops.serve.stage import publish_marts

    result = ReplayResult(source, day)
    if from_quarantine:
        result.restored = restore_from_quarantine(settings, source, day, progress=progress)
        for p in result.restored:
            progress(f"[replay] moved back to landing: {p}")
    progress(f"[ingest] {source} {day}")
    result.ingest = _ingest(settings, source, day)
    for f in result.ingest["files"]:
        progress(
            f"  {f['source_file']}: {f['status']}, {f['rows_loaded']} rows loaded, {f['rows_rejected']} rejected"
        )
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
    from growthops.commands.progress import add_verbose_argument

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
    add_verbose_argument(parser)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _one_line(exc: BaseException) -> str:
    from growthops.warehouse import is_lock_error, lock_holder

    if is_lock_error(exc):
        return f"a DuckDB file is {lock_holder(exc)}; wait for it to finish, then run the command again"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"


def run(args: argparse.Namespace) -> int:
    import duckdb

    from growthops import next_steps
    from growthops.commands.progress import Progress, configure_logging
    from growthops.commands.report import report_line_after_publication
    from growthops.errors import GrowthopsError
    from growthops.failures import StageFailure
    from growthops.reports import failure_message
    from growthops.warehouse import WarehouseLocked, wait_for_writer

    settings = load_settings()
    configure_logging(args.verbose)
    report_line = None
    try:
        wait_for_writer(settings.warehouse_path, settings.writer_wait_seconds, _stderr)
        # ingest, then dbt, gate, publish, report; restoring from quarantine adds a step per file
        steps = None if args.from_quarantine else 1 + (0 if args.no_transform else 4)
        with Progress(f"replay {args.source} {args.day}", steps) as progress:
            result = replay(
                settings,
                args.source,
                args.day,
                from_quarantine=args.from_quarantine,
                transform=not args.no_transform,
                progress=progress,
            )
            if result.published_run_id:
                report_line = report_line_after_publication(settings, progress)
    except StageFailure as exc:
        text = failure_message(exc.report_path) if exc.report_path else str(exc)
        print(f"\n{text}", file=sys.stderr)
        return 1
    except GrowthopsError as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    except (WarehouseLocked, OSError, duckdb.Error) as exc:  # a lock, a full disk, an I/O error
        print(f"\nFAILED (nothing more was published): {_one_line(exc)}", file=sys.stderr)
        print(f"    {next_steps.status()}", file=sys.stderr)
        return 1
    if result.published_run_id:
        print(f"\nreplayed {args.source} {args.day}; BI now reads run {result.published_run_id}")
    else:
        print(f"\nreplayed {args.source} {args.day} into raw (not published: --no-transform)")
    if report_line:
        print(report_line)
    print(f"took {progress.elapsed():.0f}s ({progress.timings()})")
    return 0
