"""The ``growthops`` command line.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``;
modules are imported only when their subcommand runs, so ``growthops --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("growthops.generate", "write deterministic sample exports into the landing folder"),
    "ingest": (
        "growthops.commands.ingest",
        "load landing files of a source and day range into the raw tables",
    ),
    "backfill": ("growthops.commands.backfill", "load a date range of exports and publish the marts once"),
    "status": ("growthops.commands.status", "freshness, quarantine, rejects and the published marts version"),
    "replay": (
        "growthops.commands.replay",
        "re-ingest a corrected file for a source and day, then transform",
    ),
    "rollback": ("growthops.commands.rollback", "restore the previously published serving version"),
    "report": (
        "growthops.commands.report",
        "static HTML growth report of the published marts (opens offline)",
    ),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s module is imported (to add its arguments)."""
    parser = argparse.ArgumentParser(
        prog="growthops",
        description="Daily ad, CRM and order exports to trusted growth marts.",
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.set_defaults(_module=module_name)
        if name == command:
            importlib.import_module(module_name).add_arguments(sp)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(command).parse_args(argv)
    module = importlib.import_module(args._module)
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
