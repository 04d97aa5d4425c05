"""The facts ``growthops status`` collects per source: quarantined files, the load ledger (last
loaded day and batch, rejects, days missing inside the loaded range, resolved quarantines) and the
landing folder (unexpected file names, day folders dated after today)."""

from __future__ import annotations

import re
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from growthops.config import Settings

if TYPE_CHECKING:
    from growthops.commands.status import SourceStatus
    from growthops.serve.versions import ServedVersion

REPORT_NAME = re.compile(r"\.report\.(md|json)(\.replayed-[0-9T]+)?$")


def _quarantined(settings: Settings, source: str) -> list[str]:
    folder = settings.quarantine_dir / source
    if not folder.exists():
        return []
    return sorted(
        str(p.relative_to(settings.quarantine_dir))
        for p in folder.rglob("*")
        if p.is_file() and not REPORT_NAME.search(p.name)
    )


def _ledger_facts(settings: Settings, statuses: dict[str, SourceStatus], reject_days: int, as_of: date):
    """Fill last loaded day/batch and rejects from the ledger.

    Returns (note, load time of every current batch, newest load time per (source, day)).
    """
    import duckdb

    from growthops.warehouse import is_lock_error, lock_holder

    if not settings.warehouse_path.exists():
        return "no warehouse yet: nothing has been loaded", [], {}
    try:
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    except duckdb.Error as exc:
        if is_lock_error(exc):
            return (
                f"warehouse busy ({lock_holder(exc)}: a load or build is running): ledger facts not shown",
                [],
                {},
            )
        return f"build database unreadable ({str(exc).splitlines()[0][:160]}): ledger facts not shown", [], {}
    try:
        has_ledger = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = 'load_ledger'"
        ).fetchone()[0]
        if not has_ledger:
            return "no load ledger yet: nothing has been loaded", [], {}
        rows = con.execute(
            """
            select source, day, batch_id, finished_at
            from raw.load_ledger
            where status in ('loaded', 'loaded_with_rejects') and superseded_by is null
            qualify row_number() over (partition by source order by day desc, finished_at desc) = 1
            """
        ).fetchall()
        _loaded_days(con, statuses, as_of)
        for source, day, batch, finished in rows:
            if source in statuses:
                st = statuses[source]
                st.last_day, st.last_batch = day.isoformat(), batch
                st.last_loaded_at = finished.isoformat(timespec="seconds") if finished else None
        since = as_of - timedelta(days=reject_days - 1)
        for source, n, days in con.execute(
            """
            select r.source, count(*), count(distinct r.day)
            from raw.rejects as r
            inner join raw.load_ledger as l on l.batch_id = r.batch_id and l.superseded_by is null
            where r.day between ? and ?
            group by r.source
            """,
            [since, as_of],
        ).fetchall():
            if source in statuses:
                statuses[source].rejected_rows, statuses[source].rejected_days = int(n), int(days)
        _resolved_quarantine(con, statuses)
        loads = con.execute(
            "select finished_at from raw.load_ledger where status in ('loaded', 'loaded_with_rejects')"
            " and superseded_by is null"
        ).fetchall()
        by_day = {
            (source, day.isoformat()): finished.replace(tzinfo=UTC)
            for source, day, finished in con.execute(
                "select source, day, max(finished_at) from raw.load_ledger"
                " where status in ('loaded', 'loaded_with_rejects') and finished_at is not null group by all"
            ).fetchall()
        }
        return None, [r[0] for r in loads if r[0] is not None], by_day
    finally:
        con.close()


def _loaded_days(con, statuses: dict[str, SourceStatus], as_of: date) -> None:
    """Days missing inside each source's loaded range, and loaded days dated after today."""
    for source, days in con.execute(
        "select source, list(distinct day order by day) from raw.load_ledger"
        " where status in ('loaded', 'loaded_with_rejects') group by source"
    ).fetchall():
        if source in statuses:
            statuses[source].missing_days = _gaps(days)
            statuses[source].future_days = [d.isoformat() for d in days if d > as_of]


def _resolved_quarantine(con, statuses: dict[str, SourceStatus]) -> None:
    """A quarantined file whose export was loaded again later is resolved (kept, not listed as open)."""
    resolved = {
        _quarantine_key(path): by
        for path, by in con.execute(
            "select quarantine_path, superseded_by from raw.load_ledger"
            " where status = 'quarantined' and quarantine_path is not null and superseded_by is not null"
        ).fetchall()
    }
    for st in statuses.values():
        for q in list(st.quarantined_files):
            if _quarantine_key(q) in resolved:
                st.quarantined_files.remove(q)
                st.resolved_quarantine.append(q)


def _gaps(days: list[date]) -> list[str]:
    """Days between the first and the last loaded day with nothing loaded."""
    have = set(days)
    if not days:
        return []
    span = (days[-1] - days[0]).days
    return [d.isoformat() for i in range(span + 1) if (d := days[0] + timedelta(days=i)) not in have]


def _landing_facts(settings: Settings, st: SourceStatus, today: date) -> None:
    """Unexpected file names in the source's day folders, and day folders dated after today."""
    from growthops.ingest.landing import all_days, future_days, unexpected_files

    if "://" in settings.landing:  # object storage: listing every day folder is not free
        return
    for day in all_days(settings, st.source):
        st.unexpected_files += [u.rel_path for u in unexpected_files(settings, st.source, day)]
    future = [d.isoformat() for d in future_days(settings, st.source, today)]
    st.future_days = sorted(set(st.future_days) | set(future))


def _quarantine_key(path: str) -> str:
    """``<source>/<day>/<file>``: the same file whether the path is absolute or relative."""
    return "/".join(Path(path).parts[-3:])


def _build_loss(settings: Settings, served: ServedVersion, note: str | None) -> str | None:
    """Why the build database lost history BI's version was built from (publish log) or its own
    ledger records (emptied raw tables); None when it did not, or cannot be read now."""
    import duckdb

    from growthops.ingest.lost_build import findings

    lost: list[str] = []
    served_batches = served.source_batches or any(
        (w or {}).get("batches")
        for row in served.lineage
        for w in (row.get("source_watermarks") or {}).values()
    )
    if not served_batches:
        return None  # BI's version was built from no raw batch: nothing to lose
    if note and note.startswith(("no warehouse yet", "no load ledger yet")):
        lost = [
            f"missing or empty, yet BI reads run {served.run_id} built from {len(served.source_batches)} batch(es)"
        ]
    elif settings.warehouse_path.exists() and note is None:
        try:
            con = duckdb.connect(str(settings.warehouse_path), read_only=True)
        except duckdb.Error:
            return None  # busy or unreadable: the warehouse note says so
        try:
            lost = findings(
                con, (served.lineage[-1].get("source_watermarks") if served.lineage else None) or {}
            )
        finally:
            con.close()
    if not lost:
        return None
    return (
        f"the build database {settings.warehouse_path.name}: {'; '.join(lost)}. The next load is "
        f"{'refused' if settings.lost_build_database == 'refuse' else 'preceded by a rebuild from landing'} "
        "([ingest] lost_build_database) and no publication will drop that history"
    )
