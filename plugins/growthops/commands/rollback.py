"""``growthops rollback``: serve the previously published marts version again, in one atomic step.

Without arguments the serving file goes back to the version the current one replaced (run it again
to walk further back); ``--to RUN_ID`` serves the newest kept version of that run (also forward,
after a rollback); ``--list`` shows the kept versions and which one is served. Version files are
never modified: the rollback is recorded in ``<data>/warehouse/versions/HISTORY.jsonl``.
"""

from __future__ import annotations

import argparse
import sys

import duckdb

from growthops import next_steps
from growthops.config import load_settings
from growthops.serve.publish import (
    RollbackError,
    intact,
    list_versions,
    read_history,
    read_publish_log,
    rollback,
    served_state,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--to",
        metavar="RUN_ID",
        dest="to_run_id",
        help="serve the newest kept version published by this run id (default: the previous version)",
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="list the kept versions (oldest first) and mark the served one; change nothing",
    )


def _list(settings) -> int:
    current, problem = served_state(settings)
    if problem:
        print(f"serving file: {problem}")
    versions = list_versions(settings)
    if not versions:
        print(f"no published versions under {settings.versions_dir}")
        return 0
    for path in versions:
        if not intact(path):
            print(f"  {'(unreadable: damaged file)':<50} {'':<27} {path.name}")
            continue
        rows = read_publish_log(path)
        own = rows[-1] if rows else {}
        served = current is not None and own.get("version_file") == current.version_file
        print(
            f"{'*' if served else ' '} {own.get('run_id', '?'):<50} "
            f"{own.get('published_at', '?')!s:<27} {path.name}"
        )
    print("(* = served now)")
    return 0


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.list:
        return _list(settings)
    try:
        result = rollback(settings, to_run_id=args.to_run_id)
    except RollbackError as exc:
        print(f"rollback refused: {exc}", file=sys.stderr)
        return 1
    except (OSError, duckdb.Error) as exc:  # a full disk, a file another process holds
        from growthops.warehouse import is_lock_error, lock_holder

        where = f"a file is {lock_holder(exc)}" if is_lock_error(exc) else str(exc).splitlines()[0][:300]
        print(f"rollback failed, BI still reads what it read before: {where}", file=sys.stderr)
        return 1
    print(
        f"now serving run {result.run_id} (published {result.published_at.isoformat()} UTC, "
        f"{result.version_file.name}); was run {result.from_run_id or '(unreadable serving file)'}"
    )
    newest = _newest_publication(settings)
    if newest and newest != result.run_id:
        print(f"BI reads a rolled-back version (the newest publication is run {newest}); next:")
        for command in next_steps.rolled_back(newest):
            print(f"    {command}")
    return 0


def _newest_publication(settings) -> str | None:
    publishes = [e for e in read_history(settings) if e.get("event") == "publish"]
    return publishes[-1].get("run_id") if publishes else None
