"""``growthops status``: is every source fresh, is anything quarantined, what does BI read?

Per source: last loaded day and batch, freshness against the expected daily arrival (ok / late /
stale), files waiting in quarantine, rows rejected in the last N days, and load failures reported
since its last successful load (validator errors, transient failures: nothing quarantined, yet the
day is not loaded). For the marts: the published version (run id, time, source batches) and
whether a newer build is waiting (raw batches loaded after the publication) or failed (a build
failure report newer than the publication).

A quarantined file whose export was loaded again afterwards (a corrected file dropped into
landing supersedes it in the load ledger) is listed as resolved and needs no attention; it stays
in quarantine (nothing is ever deleted).

Human table by default, ``--json`` for machines. Exit code 1 when something needs attention
(a late or stale source, an unresolved quarantined file, a load or build failure, nothing
published), 0 otherwise, so it can be scripted.
The warehouse is opened read-only; while a load holds it, the ledger part says so and the rest
(quarantine, publication, failures) is still reported.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from growthops.config import SOURCES, Settings, load_settings
from growthops.reports import BUILD_KINDS, find_reports

# a quarantined file's reports: <file>.report.md/.json, renamed .replayed-<time> by a replay
REPORT_NAME = re.compile(r"\.report\.(md|json)(\.replayed-[0-9T]+)?$")


@dataclass
class SourceStatus:
    source: str
    last_day: str | None = None
    last_batch: str | None = None
    last_loaded_at: str | None = None
    expected_day: str | None = None
    freshness: str = "unknown"  # ok | late | stale | unknown
    days_behind: int | None = None
    quarantined_files: list[str] = field(default_factory=list)
    resolved_quarantine: list[str] = field(default_factory=list)  # superseded by a later load
    rejected_rows: int = 0
    rejected_days: int = 0
    failures: list[str] = field(default_factory=list)  # reports since the last successful load

    @property
    def needs_attention(self) -> bool:
        return self.freshness in {"late", "stale"} or bool(self.quarantined_files) or bool(self.failures)


@dataclass
class MartsStatus:
    published_run_id: str | None = None
    published_at: str | None = None
    source_batches: int = 0
    version_file: str | None = None
    batches_waiting: int = 0  # raw batches loaded after the publication
    failed_builds: list[str] = field(default_factory=list)  # failure reports newer than the publication

    @property
    def needs_attention(self) -> bool:
        return self.published_run_id is None or bool(self.failed_builds)


@dataclass
class Status:
    as_of: str
    sources: list[SourceStatus]
    marts: MartsStatus
    warehouse_note: str | None = None
    reject_days: int = 7
    report_summaries: dict[str, str] = field(default_factory=dict)  # report path -> "kind: summary"

    @property
    def needs_attention(self) -> bool:
        return any(s.needs_attention for s in self.sources) or self.marts.needs_attention

    def to_dict(self) -> dict:
        d = asdict(self)
        d["needs_attention"] = self.needs_attention
        return d


def expected_day(settings: Settings, source: str, now: datetime) -> date:
    """The newest export day that should have arrived by ``now``.

    The export of day D is expected by ``expected_by`` (reporting timezone) on day D+1.
    """
    tz = ZoneInfo(settings.reporting_timezone)
    local = now.astimezone(tz)
    hh, mm = (int(x) for x in settings.source(source).expected_by.split(":"))
    due_today = local.time() >= time(hh, mm)
    return local.date() - timedelta(days=1 if due_today else 2)


def _freshness(settings: Settings, st: SourceStatus, now: datetime) -> None:
    exp = expected_day(settings, st.source, now)
    st.expected_day = exp.isoformat()
    if st.last_day is None:
        st.freshness = "stale"
        return
    behind = (exp - date.fromisoformat(st.last_day)).days
    st.days_behind = max(behind, 0)
    if behind <= 0:
        st.freshness = "ok"
    elif behind < settings.source(st.source).stale_after_days:
        st.freshness = "late"
    else:
        st.freshness = "stale"


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

    from growthops.warehouse import is_lock_error

    if not settings.warehouse_path.exists():
        return "no warehouse yet: nothing has been loaded", [], {}
    try:
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    except duckdb.IOException as exc:
        if is_lock_error(exc):
            return "warehouse busy (a load or build is running): ledger facts not shown", [], {}
        raise
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


def _quarantine_key(path: str) -> str:
    """``<source>/<day>/<file>``: the same file whether the path is absolute or relative."""
    return "/".join(Path(path).parts[-3:])


def _written_at(report: dict) -> datetime | None:
    try:
        value = datetime.fromisoformat(str(report.get("written_at")))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _report_source(report: dict) -> str | None:
    """The source a report is about: its ``source``, or the ingest DAG it came from."""
    if report.get("source") in SOURCES and report.get("kind") not in BUILD_KINDS:
        return report["source"]
    dag_id = str(report.get("dag_id") or "")
    if dag_id.startswith("growthops_ingest_") and dag_id.removeprefix("growthops_ingest_") in SOURCES:
        return dag_id.removeprefix("growthops_ingest_")
    return None


def _failures(
    settings: Settings,
    statuses: dict[str, SourceStatus],
    loads_by_day: dict[tuple[str, str], datetime],
    published_at: datetime | None,
    summaries: dict[str, str],
) -> list[str]:
    """Attach load failures not followed by a load of that day; return build failures after publication."""
    builds = []
    for path, report in find_reports(settings):
        written = _written_at(report)
        rel = str(path.relative_to(settings.data_dir))
        summaries[rel] = f"{report.get('kind')}: {report.get('summary')}"
        source = _report_source(report)
        if source is not None:
            st = statuses[source]
            if report.get("day"):
                loaded = loads_by_day.get((source, str(report["day"])))
            else:
                loaded = (
                    datetime.fromisoformat(st.last_loaded_at).replace(tzinfo=UTC)
                    if st.last_loaded_at
                    else None
                )
            if written is None or loaded is None or written > loaded:
                st.failures.append(rel)
        elif written is None or published_at is None or written > published_at:
            builds.append(rel)
    return sorted(builds)


def collect_status(settings: Settings, *, now: datetime | None = None, reject_days: int = 7) -> Status:
    from growthops.serve.publish import current_version

    now = now or datetime.now(UTC)
    statuses = {s: SourceStatus(source=s, quarantined_files=_quarantined(settings, s)) for s in SOURCES}
    note, load_times, loads_by_day = _ledger_facts(settings, statuses, reject_days, now.date())
    for st in statuses.values():
        _freshness(settings, st, now)

    marts = MartsStatus()
    served = current_version(settings)
    published_at = None
    if served is not None:
        published_at = served.published_at
        if published_at.tzinfo is None:
            published_at = published_at.replace(tzinfo=UTC)
        marts.published_run_id = served.run_id
        marts.published_at = published_at.isoformat(timespec="seconds")
        marts.source_batches = len(served.source_batches)
        marts.version_file = served.version_file
        marts.batches_waiting = sum(1 for t in load_times if t.replace(tzinfo=UTC) > published_at)
    summaries: dict[str, str] = {}
    marts.failed_builds = _failures(settings, statuses, loads_by_day, published_at, summaries)
    shown = set(marts.failed_builds).union(*(st.failures for st in statuses.values()))
    return Status(
        as_of=now.isoformat(timespec="seconds"),
        sources=list(statuses.values()),
        marts=marts,
        warehouse_note=note,
        reject_days=reject_days,
        report_summaries={k: v for k, v in summaries.items() if k in shown},
    )


def render(status: Status) -> str:
    from growthops.commands.summary import table

    rows = [
        [
            s.source,
            s.last_day or "-",
            s.expected_day or "-",
            s.freshness.upper() if s.freshness != "ok" else "ok",
            str(len(s.quarantined_files)),
            f"{s.rejected_rows:,}",
            str(len(s.failures)),
            s.last_batch or "-",
        ]
        for s in status.sources
    ]
    headers = ["source", "last day", "expected", "freshness", "quarantined"]
    headers += [f"rejects ({status.reject_days}d)", "failed loads", "last batch"]
    out = [f"growthops status as of {status.as_of}", "", table(headers, rows)]
    if status.warehouse_note:
        out += ["", f"note: {status.warehouse_note}"]
    for s in status.sources:
        if s.freshness in {"late", "stale"}:
            behind = f"{s.days_behind} day(s) behind" if s.days_behind is not None else "nothing loaded yet"
            hint = (
                "a delivered file was refused, see below"
                if s.quarantined_files or s.failures
                else "is the export in the landing folder?"
            )
            out.append(
                f"  {s.freshness.upper()}: {s.source} expected through {s.expected_day}, "
                f"last loaded {s.last_day or 'never'} ({behind}): {hint}"
            )
        for q in s.quarantined_files:
            src, day = q.split("/")[0], q.split("/")[1]
            out.append(
                f"  quarantined: {q}  -> fix it, then `growthops replay {src} {day} --from-quarantine` "
                f"(report: quarantine/{q}.report.md)"
            )
        for q in s.resolved_quarantine:
            out.append(f"  resolved: {q} (a later file of that export was loaded; kept for the record)")
        for f in s.failures:
            out.append(f"  FAILED load: {f}")
            if f in status.report_summaries:
                out.append(f"      {status.report_summaries[f][:200]}")
    m = status.marts
    out.append("")
    if m.published_run_id:
        out.append(
            f"marts: BI reads run {m.published_run_id} published {m.published_at} "
            f"({m.source_batches} source batches, {m.version_file})"
        )
        if m.batches_waiting:
            out.append(
                f"  {m.batches_waiting} batch(es) loaded since then are waiting for the next transform"
            )
    else:
        out.append("marts: NOTHING PUBLISHED yet")
    for f in m.failed_builds:
        out.append(f"  FAILED build after the publication: {f}")
        if f in status.report_summaries:
            out.append(f"      {status.report_summaries[f][:200]}")
    out += ["", "NEEDS ATTENTION" if status.needs_attention else "all good"]
    return "\n".join(out)


def _as_of(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--days", type=int, default=7, help="window for rejected rows (default 7 days)")
    parser.add_argument(
        "--as-of",
        type=_as_of,
        help="judge freshness as if it were this time (default: now), e.g. 2025-07-01T08:00 (UTC if no offset)",
    )


def run(args: argparse.Namespace) -> int:
    status = collect_status(load_settings(), now=args.as_of, reject_days=args.days)
    if args.json:
        json.dump(status.to_dict(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(render(status))
    return 1 if status.needs_attention else 0
