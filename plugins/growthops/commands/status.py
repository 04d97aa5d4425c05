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
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from growthops.commands.status_checks import _build_loss, _landing_facts, _ledger_facts, _quarantined
from growthops.config import SOURCES, Settings, load_settings
from growthops.reports import BUILD_KINDS, find_reports

# a quarantined file's reports: <file>.report.md/.json, renamed .replayed-<time> by a replay


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
    unexpected_files: list[str] = field(default_factory=list)  # in a day folder, no pattern accepts them
    missing_days: list[str] = field(default_factory=list)  # inside the loaded range, nothing loaded
    future_days: list[str] = field(default_factory=list)  # day folders or loads dated after today

    @property
    def needs_attention(self) -> bool:
        return (
            self.freshness in {"late", "stale"}
            or bool(self.quarantined_files)
            or bool(self.failures)
            or bool(self.unexpected_files)
            or bool(self.missing_days)
            or bool(self.future_days)
        )


@dataclass
class MartsStatus:
    published_run_id: str | None = None
    published_at: str | None = None
    source_batches: int = 0
    version_file: str | None = None
    batches_waiting: int = 0  # raw batches loaded after the publication
    failed_builds: list[str] = field(default_factory=list)  # failure reports newer than the publication
    serving_problem: str | None = None  # the serving file cannot be read (damaged, held read-write)
    rolled_back_from: str | None = None  # BI reads a rolled-back version: the newest publication's run
    build_lost: str | None = None  # the build DB is missing or empty while a version is published
    # incremental models the next build rebuilds in full, their definition changed (DECISIONLOG 80)
    rebuilt_in_full_next: str | None = None

    @property
    def needs_attention(self) -> bool:
        return (
            self.published_run_id is None
            or bool(self.failed_builds)
            or bool(self.serving_problem)
            or bool(self.rolled_back_from)
            or bool(self.build_lost)
        )


@dataclass
class Status:
    as_of: str
    sources: list[SourceStatus]
    marts: MartsStatus
    warehouse_note: str | None = None
    reject_days: int = 7
    report_summaries: dict[str, str] = field(default_factory=dict)  # report path -> "kind: summary"
    report_commands: dict[str, str] = field(default_factory=dict)  # report path -> its first command

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


def _rolled_back_from(settings: Settings, served_file: str | None) -> str | None:
    """The newest publication's run when BI reads another version after a rollback."""
    from growthops.serve.versions import read_history

    events = [e for e in read_history(settings) if e.get("event") in ("publish", "rollback")]
    publishes = [e for e in events if e["event"] == "publish"]
    if not events or not publishes or events[-1]["event"] != "rollback":
        return None
    newest = publishes[-1]
    return None if newest.get("version_file") == served_file else newest.get("run_id")


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
        useful = [c for c in report.get("commands") or [] if not str(c).startswith("growthops status")]
        if useful:
            summaries[rel + "#next"] = str(useful[0])
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
    from growthops.build.dbt import pending_full_rebuilds
    from growthops.commands.ingest import today
    from growthops.serve.versions import served_state

    now = now or datetime.now(UTC)
    statuses = {s: SourceStatus(source=s, quarantined_files=_quarantined(settings, s)) for s in SOURCES}
    last_day = today(settings, now)
    note, load_times, loads_by_day = _ledger_facts(settings, statuses, reject_days, last_day)
    for st in statuses.values():
        _freshness(settings, st, now)
        _landing_facts(settings, st, last_day)

    marts = MartsStatus()
    served, marts.serving_problem = served_state(settings)
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
        marts.rolled_back_from = _rolled_back_from(settings, served.version_file)
        marts.build_lost = _build_loss(settings, served, note)
        marts.rebuilt_in_full_next = pending_full_rebuilds(settings)
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
        report_commands={k: summaries[k + "#next"] for k in shown if k + "#next" in summaries},
    )


def render(status: Status) -> str:
    """The human table and lines (:mod:`growthops.commands.status_view`)."""
    from growthops.commands.status_view import render as _render

    return _render(status)


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


def _write(text: str) -> None:
    """Print, and stay quiet when the reader went away (``growthops status | head``)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)  # no second BrokenPipeError at interpreter exit
        os.dup2(devnull, sys.stdout.fileno())


def run(args: argparse.Namespace) -> int:
    status = collect_status(load_settings(), now=args.as_of, reject_days=args.days)
    if args.json:
        _write(json.dumps(status.to_dict(), indent=2, default=str) + "\n")
    else:
        _write(render(status) + "\n")
    return 1 if status.needs_attention else 0
