"""``growthops ingest``: load landing files of a source (or all) for a day range into the raw tables.

The bulk path (SPEC §6): one process, the files in large batches, through the same code as the
daily DAG task. Nothing is skipped silently: bad files are quarantined and listed; a file whose
name no pattern of the source accepts is listed as *unexpected* (not loaded); a day folder dated
after today is refused as clock skew (not loaded). Exit code 1 if any file was refused, is
unexpected (unless ``[ingest] ignore_unexpected_files``) or dated in the future; 2 if the
validator crashed or the build database stayed busy.

    growthops ingest --source orders --start 2023-01-01 --end 2025-12-31
    growthops ingest --source all --day 2025-01-03
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from growthops.ingest.refusals import clock_skew_message, today

SOURCES_IN_ORDER = ("fx", "channel", "crm", "orders")
__all__ = ["clock_skew_message", "today"]  # also used by ``growthops status``


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source", required=True, choices=(*SOURCES_IN_ORDER, "all"), help="which export (or all of them)"
    )
    parser.add_argument("--day", type=date.fromisoformat, help="one export day (YYYY-MM-DD)")
    parser.add_argument("--start", type=date.fromisoformat, help="first export day of the range")
    parser.add_argument("--end", type=date.fromisoformat, help="last export day of the range (inclusive)")
    parser.add_argument("--json", action="store_true", help="print one JSON summary per source")


def _range(args: argparse.Namespace) -> tuple[date, date] | str:
    if args.day and (args.start or args.end):
        return "give either --day or --start/--end"
    start = args.day or args.start
    end = args.day or args.end or start
    if start is None:
        return "give --day or --start (and --end)"
    if end < start:
        return f"--end {end} is before --start {start}"
    return start, end


def _json_line(source: str, start: date, end: date, result, unexpected, future) -> str:
    return json.dumps(
        {
            "source": source,
            "start": str(start),
            "end": str(end),
            "ok": result.ok and not unexpected and not future,
            "seconds": round(result.seconds, 3),
            "rows_loaded": result.rows_loaded,
            "rows_rejected": result.rows_rejected,
            "files": {
                s: result.count(s)
                for s in ("loaded", "loaded_with_rejects", "skipped", "quarantined", "failed")
            },
            "timings": {k: round(v, 3) for k, v in result.timings.items()},
            "not_ready": result.pending,
            "unexpected": [u.rel_path for u in unexpected],
            "future_days": [d.isoformat() for d in future],
            "refused": [
                o.to_dict() | {"report": None}
                for o in result.outcomes
                if o.status in ("quarantined", "failed")
            ],
        },
        default=str,
    )


def _print_result(result, unexpected, future, last_day: date, source: str) -> None:
    from growthops import next_steps
    from growthops.contracts import CONTRACTS

    print(result.summary())
    for o in result.outcomes:
        if o.status in ("quarantined", "failed"):
            print(o.report.message() if o.report else f"{o.source_file}: {o.status}: {o.message}")
    for o in result.outcomes:
        for warning in o.warnings:
            if warning.startswith("DST"):
                print(f"{o.source_file}: {warning}")
    for p in result.pending:
        print(f"not read (still being written): {p}")
    accepted = ", ".join(CONTRACTS[source].patterns)
    for u in unexpected:
        print(f"UNEXPECTED FILE {u.describe()}")
        for command in next_steps.unexpected_file(source, u.day.isoformat(), u.rel_path, accepted):
            print(f"  next: {command}")
    if future:
        print(clock_skew_message(source, future, last_day))
        for command in next_steps.future_day(source, future[0].isoformat()):
            print(f"  next: {command}")


def _report(settings, source: str, exc: BaseException) -> str:
    """The failure report (listed by ``growthops status``) of a load that did not happen."""
    from growthops.ingest.lost_build import LostBuildError
    from growthops.reports import report_failure

    kind = "build database lost" if isinstance(exc, LostBuildError) else "transient failure"
    commands = getattr(exc, "commands", None) or []
    return str(report_failure(kind, f"{source}: not loaded: {exc}", source=source, commands=commands))


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from growthops.config import load_settings
    from growthops.errors import TransientError, ValidatorError
    from growthops.ingest.landing import daterange, future_days, unexpected_files
    from growthops.ingest.loader import load_range
    from growthops.ingest.lost_build import LostBuildError
    from growthops.warehouse import WarehouseLocked, wait_for_writer

    span = _range(args)
    if isinstance(span, str):
        print(span, file=sys.stderr)
        return 2
    start, end = span
    settings = load_settings()
    last_day = today(settings)
    sources = SOURCES_IN_ORDER if args.source == "all" else (args.source,)
    status = 0
    progress = (lambda _m: None) if args.json else (lambda m: print(m, flush=True))
    for source in sources:
        future = [d for d in future_days(settings, source, last_day) if start <= d <= end]
        unexpected = [
            u for d in daterange(start, min(end, last_day)) for u in unexpected_files(settings, source, d)
        ]
        try:
            wait_for_writer(settings.warehouse_path, settings.writer_wait_seconds, _stderr)
            result = load_range(settings, source, start, min(end, last_day), progress=progress)
        except ValidatorError as exc:
            print(f"validator error (the data was not judged, nothing loaded): {exc}", file=sys.stderr)
            return 2
        except (WarehouseLocked, LostBuildError, TransientError) as exc:
            print(f"not loaded: {exc}\nreport: {_report(settings, source, exc)}", file=sys.stderr)
            return 2
        if args.json:
            print(_json_line(source, start, end, result, unexpected, future))
        else:
            _print_result(result, unexpected, future, last_day, source)
        if not result.ok or future or (unexpected and not settings.ignore_unexpected_files):
            status = 1
    return status
