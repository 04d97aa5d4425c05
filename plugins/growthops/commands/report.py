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
