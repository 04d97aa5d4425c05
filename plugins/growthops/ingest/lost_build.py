"""A lost build database: deleted, or emptied and recreated, while BI still reads marts built from it.

Loading into such a database and publishing would silently drop history from the marts. Before
every load that opens the build database (:func:`guard`), two records are compared with what it
holds:

- the **publish log** of the serving file: per raw table, the number of batches the served version
  was built from (``source_watermarks``) — the build database must hold at least as many;
- the **load ledger** of the build database itself: the rows its current batches loaded — the raw
  tables must hold them all (an emptied raw table with the ledger intact).

What happens then is ``[ingest] lost_build_database``: ``refuse`` (default: nothing is loaded; the
message says what was found and the one command that rebuilds) or ``rebuild`` (every export still
in landing is ingested again — all sources, all days up to today; the ledger's loaded batches are
first marked superseded by the rebuild, and get their rows and status back when their file is
loaded again — then the load goes on; if landing no longer has the history the served version
had, it refuses after all, saying so).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import duckdb

from growthops import next_steps
from growthops.config import SOURCES, Settings
from growthops.contracts import CONTRACTS
from growthops.errors import GrowthopsError
from growthops.logs import get_logger

log = get_logger(__name__)

POLICIES = ("refuse", "rebuild")
LOADED = "('loaded', 'loaded_with_rejects')"
REBUILT = "rebuild from landing"  # superseded_by of batches a rebuild did not find in landing again


class LostBuildError(GrowthopsError):
    """The build database lost history the publish log or the ledger says it had; nothing loaded."""

    def __init__(self, message: str, commands: list[str]):
        super().__init__(message)
        self.commands = commands


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        f"{s}.{t}" for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
    }


def findings(con: duckdb.DuckDBPyConnection, served_watermarks: dict[str, dict] | None) -> list[str]:
    """What the build database lacks, one line per raw table; [] when it holds what it should."""
    tables = _tables(con)
    out = []
    for contract in CONTRACTS.values():
        table = contract.raw_table
        present = table in tables
        batches, rows = (
            con.execute(f"select count(distinct _batch_id), count(*) from {table}").fetchone()
            if present
            else (0, 0)
        )
        served = (served_watermarks or {}).get(table) or {}
        if (served.get("batches") or 0) > batches:
            out.append(
                f"{table}: {batches} batch(es), the publish log says the version BI reads was built from "
                f"{served['batches']} (through {served.get('max_batch_day')})"
            )
        elif "raw.load_ledger" in tables:
            expected = con.execute(
                f"select coalesce(sum(rows_loaded), 0) from raw.load_ledger where source = ? "
                f"and status in {LOADED} and superseded_by is null",
                [contract.source],
            ).fetchone()[0]
            if expected > rows:
                out.append(f"{table}: {rows} row(s), the load ledger says {expected} were loaded")
    return out


def _served_watermarks(settings: Settings) -> dict[str, dict] | None:
    from growthops.serve.versions import served_state

    served, _problem = served_state(settings)  # an unreadable serving file: the ledger check still runs
    if served is None or not served.lineage:
        return None
    return served.lineage[-1].get("source_watermarks") or {}


def landing_span(settings: Settings, last_day: date) -> tuple[date, date] | None:
    """The first and last export day in landing (up to ``last_day``), over every source."""
    from growthops.ingest.landing import all_days

    days = [d for s in SOURCES for d in all_days(settings, s) if d <= last_day]
    return (min(days), max(days)) if days else None


def _refusal(settings: Settings, lost: list[str], last_day: date, *, rebuilt: bool) -> LostBuildError:
    span = landing_span(settings, last_day)
    first, last = (span[0].isoformat(), span[1].isoformat()) if span else ("<first day>", "<last day>")
    what = (
        "rebuilt from landing, but landing no longer holds every export the served version was built from"
        if rebuilt
        else f"refused (lost_build_database = {settings.lost_build_database!r}); nothing was loaded"
    )
    commands = next_steps.lost_build(first, last, rebuilt=rebuilt)
    return LostBuildError(
        f"the build database {settings.warehouse_path.name} is missing or emptied: {'; '.join(lost)}. "
        f"{what}. Next: {commands[0]}",
        commands,
    )


def guard(
    settings: Settings, con: duckdb.DuckDBPyConnection, progress: Callable[[str], None] | None = None
) -> None:
    """Refuse, or rebuild from landing, when the build database lost history (see the module doc)."""
    if settings.lost_build_database not in POLICIES:
        raise ValueError(
            f"[ingest] lost_build_database must be one of {POLICIES}, not {settings.lost_build_database!r}"
        )
    watermarks = _served_watermarks(settings)
    lost = findings(con, watermarks)
    if not lost:
        return
    from growthops.ingest.refusals import today

    last_day = today(settings)
    if settings.lost_build_database == "refuse":
        raise _refusal(settings, lost, last_day, rebuilt=False)
    say = progress or log.warning
    say(f"the build database is missing or emptied ({'; '.join(lost)}): rebuilding it from landing")
    from growthops.ingest.loader import load_range

    if "raw.load_ledger" in _tables(con):  # re-judge every batch: the same files get the same ids back
        con.execute(
            f"update raw.load_ledger set superseded_by = ? where status in {LOADED} and superseded_by is null",
            [REBUILT],
        )
    for source in SOURCES:  # declared in load order: fx first
        result = load_range(settings, source, date.min, last_day, con=con, progress=progress)
        say(f"rebuild: {result.summary()}")
    lost = findings(con, watermarks)
    if lost:
        raise _refusal(settings, lost, last_day, rebuilt=True)
