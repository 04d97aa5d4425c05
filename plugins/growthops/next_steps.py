"""The one source of "what to do next": every command on-call is told to run, per situation.

The CLI messages, the quarantine report beside a refused file, the task's failure report and
``growthops status`` all print the commands of this module, so the same situation always gets the
same — correct — command (a table-driven test holds them to it). Each entry is
``<command>   # <when / what it does>``; the first one is the usual fix.
"""

from __future__ import annotations


def quarantined(source: str, day: str) -> list[str]:
    """A file of ``source``/``day`` was quarantined (moved out of landing, nothing loaded)."""
    return [
        f"growthops replay {source} {day} --from-quarantine"
        "   # after correcting the file in quarantine: re-ingest it, rebuild and publish the marts",
        f"growthops replay {source} {day}"
        "   # instead, after dropping a corrected export into the landing folder",
    ]


def _replay(source: str, day: str, when: str) -> list[str]:
    """The one command: replay ``source``/``day`` (re-ingest, rebuild, publish) ``when`` (its comment)."""
    return [f"growthops replay {source} {day}   # {when}"]


def refused_in_landing(source: str, day: str) -> list[str]:
    """A file was refused but left in landing (two files of one export, a file still being written)."""
    return _replay(source, day, "after correcting the export: re-ingest it, rebuild and publish")


def validator_error(source: str, day: str) -> list[str]:
    return _replay(
        source,
        day,
        f"after fixing expectations/{source}.json or the validator (the file is still in landing)",
    )


def unexpected_file(source: str, day: str, rel_path: str, accepted: str) -> list[str]:
    """A file in a day folder no pattern accepts: it was not loaded."""
    return _replay(
        source,
        day,
        f"after renaming {rel_path} to an accepted name ({accepted}), or moving it out if it is not an export",
    )


def missing_day(source: str, day: str) -> list[str]:
    """A day inside the loaded range has no loaded export."""
    return _replay(source, day, "after dropping the export of that day into the landing folder")


def future_day(source: str, day: str) -> list[str]:
    return _replay(
        source,
        "<real day>",
        f"after fixing the exporter's clock and renaming the folder {source}/{day} to the export's real day",
    )


def rolled_back(newest_run: str | None) -> list[str]:
    """BI reads a version older than the newest publication (after ``growthops rollback``)."""
    cmds = []
    if newest_run:
        cmds.append(
            f"growthops rollback --to {newest_run}   # serve the newest publication again, if it was fine"
        )
    cmds.append(
        "growthops replay <source> <day>   # or publish a fixed build: re-ingest the corrected export"
    )
    return cmds


def damaged_serving() -> str:
    return "growthops rollback   # serve the newest intact kept version again (an independent copy)"


def status() -> str:
    return "growthops status   # freshness, quarantine, what BI reads, failed builds"


def rollback(run_id: str) -> str:
    return (
        f"growthops rollback   # only if the marts BI reads now (run {run_id}) "
        "are wrong: serve the version before it (`growthops rollback --list` shows them)"
    )


def lock_held(path: str, holder: str) -> list[str]:
    """Another process holds a DuckDB file."""
    return [
        f"wait for it to finish and run the command again ({path} is {holder})",
        "ps -p <PID> -o pid,etime,args   # what it is; a BI client must open serving.duckdb read-only",
    ]


def commands_for_file(source: str, day: str, *, quarantined_to: str | None, kind: str | None) -> list[str]:
    """The commands for a file-level failure of ``source``/``day``."""
    if quarantined_to:
        return quarantined(source, day)
    if kind == "validator error":
        return validator_error(source, day)
    return refused_in_landing(source, day)


def primary(commands: list[str]) -> str:
    """The command itself (without its comment) of the first entry."""
    return commands[0].split("   #", 1)[0].strip()


def lost_build(first: str, last: str, *, rebuilt: bool) -> list[str]:
    """The build database is missing or emptied while BI reads marts built from it."""
    if rebuilt:
        return [
            "restore the build database from a backup, or drop the missing exports back into landing   "
            "# landing no longer has every export the served version was built from",
            status(),
        ]
    return [
        f"GROWTHOPS_INGEST_LOST_BUILD_DATABASE=rebuild growthops backfill --start {first} --end {last}"
        "   # re-ingest every export in landing, rebuild and publish the marts",
        status(),
    ]
