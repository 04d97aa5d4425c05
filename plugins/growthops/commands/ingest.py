"""``growthops ingest``: load landing files of a source (or all) for a day range into the raw tables.

The bulk path (SPEC §6): one process, the files in large batches, through the same code as the
daily DAG task. Bad files are quarantined and listed; the exit code is 1 if any file was refused,
2 if the validator crashed.

    growthops ingest --source orders --start 2023-01-01 --end 2025-12-31
    growthops ingest --source all --day 2025-01-03
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

SOURCES_IN_ORDER = ("fx", "channel", "crm", "orders")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source", required=True, choices=(*SOURCES_IN_ORDER, "all"), help="which export (or all of them)"
    )
    parser.add_argument("--day", type=date.fromisoformat, help="one export day (YYYY-MM-DD)")
    parser.add_argument("--start", type=date.fromisoformat, help="first export day of the range")
    parser.add_argument("--end", type=date.fromisoformat, help="last export day of the range (inclusive)")
    parser.add_argument("--json", action="store_true", help="print one JSON summary per source")


def run(args: argparse.Namespace) -> int:
    from growthops.config import load_settings
    from growthops.errors import ValidatorError
    from growthops.ingest.loader import load_range

    if args.day and (args.start or args.end):
        print("give either --day or --start/--end", file=sys.stderr)
        return 2
    start = args.day or args.start
    end = args.day or args.end or start
    if start is None:
        print("give --day or --start (and --end)", file=sys.stderr)
        return 2
    if end < start:
        print(f"--end {end} is before --start {start}", file=sys.stderr)
        return 2
    settings = load_settings()
    sources = SOURCES_IN_ORDER if args.source == "all" else (args.source,)
    status = 0
    progress = (lambda _m: None) if args.json else (lambda m: print(m, flush=True))
    for source in sources:
        try:
            result = load_range(settings, source, start, end, progress=progress)
        except ValidatorError as exc:
            print(f"validator error (the data was not judged, nothing loaded): {exc}", file=sys.stderr)
            return 2
        if args.json:
            print(
                json.dumps(
                    {
                        "source": source,
                        "start": str(start),
                        "end": str(end),
                        "ok": result.ok,
                        "seconds": round(result.seconds, 3),
                        "rows_loaded": result.rows_loaded,
                        "rows_rejected": result.rows_rejected,
                        "files": {
                            s: result.count(s)
                            for s in ("loaded", "loaded_with_rejects", "skipped", "quarantined", "failed")
                        },
                        "timings": {k: round(v, 3) for k, v in result.timings.items()},
                        "not_ready": result.pending,
                        "refused": [o.to_dict() | {"report": None} for o in result.outcomes
                                    if o.status in ("quarantined", "failed")],
                    },
                    default=str,
                )
            )  # fmt: skip
        else:
            print(result.summary())
            for o in result.outcomes:
                if o.status in ("quarantined", "failed"):
                    print(o.report.message() if o.report else f"{o.source_file}: {o.status}: {o.message}")
            for p in result.pending:
                print(f"not read (still being written): {p}")
        if not result.ok:
            status = 1
    return status
