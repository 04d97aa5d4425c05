"""``growthops backfill``: load a date range of exports through the ingestion code path, then
build, audit and publish the marts once.

Three years of daily exports are ~4,400 files; one Airflow run per day would cost tens of
seconds of scheduling overhead each. The bulk path loads them in one process (same per-file
code as the daily DAGs: contract check, raw gate, rejects, ledger) and publishes a single
version. The ``growthops_backfill`` DAG runs the same function with ``start``/``end`` params.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from growthops.config import SOURCES, Settings, load_settings
from growthops.logs import get_logger

log = get_logger(__name__)

# fx first: the other sources' money is converted with it downstream.
LOAD_ORDER = SOURCES  # declared in load order (growthops.sources)


@dataclass
class BackfillResult:
    start: date
    end: date
    loads: dict[str, object] = field(default_factory=dict)
    refused: list = field(default_factory=list)  # FileOutcome of quarantined/failed files
    seconds: dict[str, float] = field(default_factory=dict)
    # the process's peak RSS (MB) when each stage ended: a stage raised it if it grew there
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    # the mart gate's Great Expectations time (waiting for its import included), within "mart_gate"
    mart_gate_gx_seconds: float = 0.0
    published_run_id: str | None = None
    row_counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"backfill {self.start} .. {self.end}"]
        for res in self.loads.values():
            lines.append(f"  {res.summary()}")
        if self.refused:
            lines.append(f"  REFUSED {len(self.refused)} file(s) (not loaded; see their reports):")
            lines += [f"    {o.source_file}: {o.status} — {o.message}"[:200] for o in self.refused]
        total = sum(self.seconds.values())
        stages = (
            ", ".join(f"{k} {v:.1f}s ({v / total:.0%})" for k, v in self.seconds.items()) if total else ""
        )
        lines.append(f"  stages: {stages}; total {total:.1f}s")
        if self.mart_gate_gx_seconds:
            lines.append(f"  of the mart gate, Great Expectations {self.mart_gate_gx_seconds:.1f}s")
        if self.peak_rss_mb:
            lines.append(
                "  peak RSS after each stage: "
                + ", ".join(f"{k} {v:,.0f} MB" for k, v in self.peak_rss_mb.items())
            )
        if self.published_run_id:
            lines.append(
                f"  published run {self.published_run_id}: "
                + ", ".join(f"{k}={v:,}" for k, v in sorted(self.row_counts.items()))
            )
        return "\n".join(lines)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (Linux reports kilobytes)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_backfill(
    settings: Settings,
    start: date,
    end: date,
    *,
    sources: tuple[str, ...] = LOAD_ORDER,
    run_id: str | None = None,
    publish: bool = True,
    full_refresh: bool = False,
    progress=print,
) -> BackfillResult:
    """Load ``start..end`` for ``sources``, then dbt build, mart gate and publish once.

    Raises ``growthops.failures.StageFailure`` (report written) when a stage fails on data,
    including refused files (after loading the good ones: nothing is published).
    """
    from growthops.errors import DataQualityError, NotReadyError
    from growthops.failures import StageFailure
    from growthops.ingest.loader import load_range
    from growthops.ingest.stage import report_data_failure
    from growthops.sources import source as source_decl

    result = BackfillResult(start=start, end=end)
    _refuse_unsafe_landing(settings, start, end, sources)
    t = time.monotonic()
    for source in [s for s in LOAD_ORDER if s in sources]:
        progress(f"[ingest] {source} {start} .. {end}")
        res = load_range(settings, source, start, end, progress=progress)
        if res.pending:
            # Files modified within the settle window may still be written: wait once, then load
            # them (files already loaded are identical re-deliveries and are skipped).
            progress(f"[ingest] {source}: {len(res.pending)} file(s) still settling; waiting")
            time.sleep(settings.settle_seconds + 0.5)
            res = load_range(settings, source, start, end, progress=progress)
        if res.pending:
            raise NotReadyError(
                f"{source}: {len(res.pending)} file(s) not finished (still being written?): "
                + "; ".join(res.pending[:5])
            )
        if not res.outcomes and not source_decl(source).required:
            progress(f"[ingest] {source}: no exports in {start} .. {end} (optional source, skipped)")
            continue
        if not res.outcomes:
            raise NotReadyError(
                f"{source}: no exports in {settings.landing_dir / source} for {start} .. {end}"
            )
        result.loads[source] = res
        result.refused += [o for o in res.outcomes if o.status in ("quarantined", "failed")]
    result.seconds["ingest"] = time.monotonic() - t
    result.peak_rss_mb["ingest"] = peak_rss_mb()
    if result.refused:
        # The good files are loaded; publishing marts with a day missing would mislead BI.
        progress(result.summary())
        reports = [o.report for o in result.refused if o.report is not None]
        error = DataQualityError(
            reports,
            message=f"{len(result.refused)} file(s) refused; nothing published:\n"
            + "\n".join(r.message() for r in reports),
        )
        raise StageFailure(str(error), report_data_failure(error) if reports else None)
    if not publish:
        return result
    return publish_backfill(settings, result, run_id=run_id, full_refresh=full_refresh, progress=progress)


def publish_backfill(
    settings: Settings,
    result: BackfillResult,
    *,
    run_id: str | None = None,
    full_refresh: bool = False,
    progress=print,
) -> BackfillResult:
    """The second half of :func:`run_backfill`: dbt build, mart gate and publish once, timed into
    ``result.seconds``; raises ``StageFailure`` (report written) as each stage does."""
    from growthops.build.stage import build_marts
    from growthops.gate.stage import mart_gate
    from growthops.serve.stage import publish_marts

    start, end = result.start, result.end
    t = time.monotonic()
    progress("[dbt] build (seeds, models, snapshot, data and unit tests)")
    build_marts(settings, full_refresh=full_refresh)
    result.seconds["dbt"] = time.monotonic() - t
    result.peak_rss_mb["dbt"] = peak_rss_mb()

    t = time.monotonic()
    progress("[gate] mart gate (every day)")
    gate = mart_gate(settings, full=True)  # a backfill rewrites history: never only the touched days
    result.mart_gate_gx_seconds = gate.timings.get("expectations", 0.0)
    result.seconds["mart_gate"] = time.monotonic() - t
    result.peak_rss_mb["mart_gate"] = peak_rss_mb()

    t = time.monotonic()
    run_id = run_id or f"backfill__{start}_{end}__{datetime.now(UTC):%Y%m%dT%H%M%S}"
    progress(f"[publish] {run_id}")
    pub = publish_marts(settings, run_id)
    result.seconds["publish"] = time.monotonic() - t
    result.peak_rss_mb["publish"] = peak_rss_mb()
    result.published_run_id = pub.run_id
    result.row_counts = dict(pub.row_counts)
    return result


def _refuse_unsafe_landing(settings: Settings, start: date, end: date, sources: tuple[str, ...]) -> None:
    """Before loading anything: day folders after today (clock skew) and unexpected files refuse
    the backfill, in the words of ``growthops ingest`` (raises StageFailure, report written)."""
    from growthops.ingest.refusals import refuse_range

    refuse_range(settings, tuple(s for s in LOAD_ORDER if s in sources), start, end)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from growthops.commands.progress import add_verbose_argument

    parser.add_argument(
        "--start", type=date.fromisoformat, required=True, help="first export day (YYYY-MM-DD)"
    )
    parser.add_argument("--end", type=date.fromisoformat, required=True, help="last export day, inclusive")
    parser.add_argument(
        "--sources",
        default=",".join(LOAD_ORDER),
        help=f"comma-separated subset of {','.join(SOURCES)} (default: all)",
    )
    parser.add_argument("--no-publish", action="store_true", help="load raw only; skip dbt, gate and publish")
    parser.add_argument("--full-refresh", action="store_true", help="rebuild incremental models from scratch")
    parser.add_argument(
        "--run-id", help="run id recorded in the publish log (default: backfill__<range>__<time>)"
    )
    add_verbose_argument(parser)


def run(args: argparse.Namespace) -> int:
    from growthops.commands.progress import Progress, configure_logging
    from growthops.commands.report import report_line_after_publication
    from growthops.errors import GrowthopsError
    from growthops.failures import StageFailure
    from growthops.reports import failure_message

    settings = load_settings()
    sources = tuple(s.strip() for s in args.sources.split(",") if s.strip())
    unknown = set(sources) - set(SOURCES)
    if unknown:
        print(f"unknown source(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if args.end < args.start:
        print("--end must be on or after --start", file=sys.stderr)
        return 2
    configure_logging(args.verbose)
    steps = len(sources) + (0 if args.no_publish else 4)  # ingest per source, dbt, gate, publish, report
    report_line = None
    try:
        with Progress(f"backfill {args.start} .. {args.end}", steps) as progress:
            result = run_backfill(
                settings,
                args.start,
                args.end,
                sources=sources,
                run_id=args.run_id,
                publish=not args.no_publish,
                full_refresh=args.full_refresh,
                progress=progress,
            )
            if result.published_run_id:
                report_line = report_line_after_publication(settings, progress)
    except StageFailure as exc:
        print(f"\nFAILED: {failure_message(exc.report_path) if exc.report_path else exc}", file=sys.stderr)
        return 1
    except GrowthopsError as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    print()
    print(result.summary())
    if report_line:
        print(report_line)
    print(f"took {progress.elapsed():.0f}s ({progress.timings()})")
    return 0
