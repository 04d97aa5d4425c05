"""``growthops report``: the static HTML growth report of the published marts (logic in ``growthops.report``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run-id",
        help="report on the kept version of this run (default: the version being served)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="reports folder (default: <data>/reports); pages go to <out>/<run_id>/ and <out>/latest/",
    )


def run(args: argparse.Namespace) -> int:
    from growthops.config import load_settings
    from growthops.report.build import ReportError, build_report

    try:
        result = build_report(load_settings(), run_id=args.run_id, out=args.out)
    except ReportError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 1
    print()
    print(result.summary())
    return 0


def report_line_after_publication(settings, progress) -> str:
    """The report step of ``backfill`` and ``replay`` after they publish (what the transform DAG's
    ``report`` task does); returns the line to print. Never raises: the publication stands."""
    from growthops.report.build import report_after_publication

    progress("[report] growth report of the published version")
    result = report_after_publication(settings)
    if result is None:
        return (
            "report: not built (the publication stands; the warning above says why) — retry: growthops report"
        )
    return f"report: {result.out_dir / 'index.html'}"
