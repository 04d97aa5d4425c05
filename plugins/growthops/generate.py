"""``growthops generate``: deterministic, realistic sample exports in the landing layout (SPEC §10).

Writes, for every day of ``[start, end]``::

    <landing>/channel/<day>/{google_ads,meta_ads,tiktok_ads}.csv   native headers per config/platforms
    <landing>/crm/<day>/contacts.csv                                contacts created or changed that day
    <landing>/orders/<day>/orders.csv                               orders created or changed that day
    <landing>/fx/<day>/rates.csv                                    USD value of USD, EUR, GBP, JPY
    <landing>/messages/<day>/sends.csv                              outbound messages, holdout rows included
    <landing>/costs/<day>/costs.csv                                 affiliate and email costs
    <landing>/_generated.json                                       arguments, exact rows per file, facts, defects

Scale: 1.0 is ~1M contacts, ~10M orders and ~200 campaigns over the reference range
2023-01-01..2025-12-31. Daily rates are proportional to the scale and do not depend on the
range (signups ~912/day x scale, with growth trend and seasonality); the shop opens on
``start``, so customers, and with them orders, build up from the first day. Campaign counts are
proportional to scale x range length (at least 3 per platform).

The same seed and arguments give byte-identical files. ``--defects`` adds a dozen known bad
rows (recorded with file, line and rule in ``_generated.json``); the default is clean.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from growthops.generator import params as P

DEFAULT_START = P.REFERENCE_START
DEFAULT_END = P.REFERENCE_END
DEFAULT_SCALE = 0.01
DEFAULT_SEED = 42
SUMMARY_NAME = "_generated.json"
SOURCES = ("channel", "crm", "orders", "fx", "messages", "costs")
MAX_SCALE = 5.0  # memory: scale 1.0 peaks around a few GB


def _silent(_message: str) -> None:
    return None


def generate(
    landing: Path | str,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    scale: float = DEFAULT_SCALE,
    seed: int = DEFAULT_SEED,
    defects: bool = False,
    progress: Callable[[str], None] | None = None,
    *,
    clean: bool = False,
    platforms_dir: Path | None = None,
) -> dict:
    """Write sample exports for ``[start, end]`` under ``landing``; return the summary.

    The summary (also written to ``<landing>/_generated.json``) holds the arguments, the exact
    number of data rows of every written file (``files``: relative path -> rows, and
    ``sources.<source>.per_day``), totals, ground-truth ``facts`` and the injected ``defects``.
    ``clean`` first removes the source folders and the summary from ``landing``.

    SPEC §11 truth: ``recall_campaigns`` (per campaign: ids, channel, send_day, window_days,
    lapsed_days, planted ``p_treated`` / ``p_holdout`` and the ``natural_rate`` they include,
    ``treated`` / ``holdout`` / ``excluded_not_lapsed`` / ``crossovers`` contacts, realised
    ``*_reactivated`` and ``*_rate``, ``expected_lift``, ``is_mature``), ``messages`` (row counts by
    purpose and channel, holdout rows, rows to contacts unknown to the CRM, ``redelivered_files``:
    files the tool delivers twice, unchanged), ``costs`` (per channel: first_day, last_day, rows,
    totals per purpose and currency) and, in ``facts``, ``resurrected_customers`` and the CRM
    ``crm_stage_changes``.
    """
    from growthops.generator.defects import KINDS, inject
    from growthops.generator.simulate import simulate
    from growthops.generator.writer import Writer

    report = progress or _silent
    landing, mappings = _checked_arguments(landing, start, end, scale, platforms_dir)
    started = time.perf_counter()

    def phase(message: str) -> None:
        report(f"[{time.perf_counter() - started:6.1f}s] {message}")

    _prepare_landing(landing, start, end, clean, phase)
    phase(f"simulating {start}..{end} at scale {scale:g}, seed {seed}")
    world = simulate(start, end, scale, seed, progress=phase)
    writer = Writer(world, landing, mappings)
    files = writer.write_all(phase)
    del writer
    days = [world.cal.day(i).isoformat() for i in range(world.cal.n_days)]
    defect_records = inject(landing, files, days, seed, mappings) if defects else []
    if defects:
        missing_rules = sorted({k.rule for k in KINDS} - {r["rule"] for r in defect_records})
        phase(f"defects: {len(defect_records)} bad rows injected")
        if missing_rules:
            phase(
                f"defects: range too short for {', '.join(missing_rules)} (they need a day after the first with rows)"
            )

    summary = _summary(world, files, days, start, end, scale, seed, defects, defect_records)
    tmp = landing / (SUMMARY_NAME + ".part")
    tmp.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    tmp.replace(landing / SUMMARY_NAME)
    phase("done")
    return summary


def _checked_arguments(
    landing: Path | str, start: date, end: date, scale: float, platforms_dir: Path | None
) -> tuple[Path, dict]:
    """The landing folder and the platform mappings; ValueError for arguments that cannot work."""
    from growthops.contracts import load_platform_mappings

    if _is_url(str(landing)):
        raise ValueError(f"generate writes to a local folder, not {landing}; generate locally and copy")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if not 0 < scale <= MAX_SCALE:
        raise ValueError(f"scale must be in (0, {MAX_SCALE}], got {scale}")
    if platforms_dir is None:
        from growthops.config import load_settings

        platforms_dir = load_settings().platforms_dir
    mappings = load_platform_mappings(Path(platforms_dir))
    missing = [p.name for p in P.PLATFORMS if p.name not in mappings]
    if missing:
        raise ValueError(f"no platform mapping for {', '.join(missing)} in {platforms_dir}")
    return Path(landing), mappings


def _prepare_landing(
    landing: Path, start: date, end: date, clean: bool, phase: Callable[[str], None]
) -> None:
    """``clean``: remove the source folders and the summary; else note day folders outside the range."""
    if clean:
        for name in (*SOURCES, SUMMARY_NAME):
            target = landing / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    else:
        stale = _days_outside(landing, start, end)
        if stale:
            phase(
                f"note: landing already holds {stale} day folders outside {start}..{end} (use clean to remove)"
            )
    landing.mkdir(parents=True, exist_ok=True)


def _is_url(text: str) -> bool:
    """``s3://...`` (also once collapsed by Path to ``s3:/...``); not a Windows drive like ``C:/``."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:/", text) is not None


def _days_outside(landing: Path, start: date, end: date) -> int:
    count = 0
    for source in SOURCES:
        folder = landing / source
        if not folder.is_dir():
            continue
        for child in folder.iterdir():
            try:
                day = date.fromisoformat(child.name)
            except ValueError:
                continue
            count += not (start <= day <= end)
    return count


def _summary(world, files, days, start, end, scale, seed, defects, defect_records) -> dict:
    per_source: dict[str, dict] = {}
    for source in SOURCES:
        entries = {k: v for k, v in files.items() if k.startswith(source + "/")}
        per_day: dict[str, object] = {}
        for relpath, rows in sorted(entries.items()):
            _, day, name = relpath.split("/")
            if source == "channel":
                per_day.setdefault(day, {})[name.removesuffix(".csv")] = rows  # type: ignore[index]
            else:
                per_day[day] = rows
        per_source[source] = {"files": len(entries), "rows": sum(entries.values()), "per_day": per_day}
    camps = world.campaigns
    return {
        "generator": "growthops.generate",
        "format": 1,
        "args": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "scale": scale,
            "seed": seed,
            "defects": defects,
        },
        "days": len(days),
        "totals": {
            "files": len(files),
            "rows": sum(files.values()),
            **{source: per_source[source]["rows"] for source in SOURCES},
        },
        "facts": world.facts,
        "campaigns": [
            {
                "platform": P.PLATFORMS[int(camps.platform[i])].name,
                "campaign_id": camps.ids[i],
                "campaign_name": camps.export_names[i],
                "campaign_key": camps.keys[i],
                "currency": P.CURRENCIES[int(camps.currency[i])],
                "first_day": world.cal.day(int(camps.first_day[i])).isoformat(),
                "last_day": world.cal.day(int(camps.last_day[i])).isoformat(),
            }
            for i in range(len(camps))
        ],
        "recall_campaigns": world.truth["recall_campaigns"],
        "messages": {
            **world.truth["messages"],
            "redelivered_days": world.truth["messages_redelivered_days"],
            "redelivered_files": [
                f"messages/{d}/sends.csv" for d in world.truth["messages_redelivered_days"]
            ],
        },
        "costs": world.truth["costs"],
        "defects": defect_records,
        "sources": per_source,
        "files": dict(sorted(files.items())),
    }


def describe(summary: dict) -> str:
    """A short human summary of a generate run."""
    t = summary["totals"]
    f = summary["facts"]
    a = summary["args"]
    lines = [
        f"generated {a['start']}..{a['end']} (scale {a['scale']:g}, seed {a['seed']}): "
        f"{t['files']:,} files, {t['rows']:,} rows",
        f"  channel {t['channel']:,} rows: {f['campaigns']} campaigns, {f['channel_rows_restated']:,} restated rows",
        f"  crm     {t['crm']:,} rows: {f['contacts_in_crm']:,} contacts "
        f"(+{f['contacts_never_exported']:,} customers never exported), {f['erasures']:,} erasures",
        f"  orders  {t['orders']:,} rows: {f['orders']:,} orders from {f['customers']:,} customers, "
        f"{f['guest_orders']:,} guest, {f['orders_of_contacts_unknown_to_crm']:,} of contacts unknown to the CRM",
        f"  fx      {t['fx']:,} rows",
        f"  messages {t['messages']:,} rows: {len(summary['recall_campaigns'])} recall campaigns, "
        f"{summary['messages']['holdout_rows']:,} holdout rows",
        f"  costs   {t['costs']:,} rows: {', '.join(sorted(summary['costs']))}",
        f"  truth   {f['resurrected_customers']:,} resurrected customers, {f['crm_stage_changes']:,} stage changes",
    ]
    if summary["defects"]:
        lines.append(f"  defects {len(summary['defects'])} bad rows (see {SUMMARY_NAME})")
    return "\n".join(lines)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "Scale: 1.0 = ~1M contacts, ~10M orders, ~200 campaigns over 2023-01-01..2025-12-31 "
        "(~912 signups/day x scale, any range; the shop opens on --start, so orders build up "
        "as customers accumulate). Scale 1.0 takes a few minutes, ~3.5 GB of memory and ~2.7 GB of CSV.\n"
        "Files: channel/<day>/<platform>.csv, crm/<day>/contacts.csv, orders/<day>/orders.csv, "
        "fx/<day>/rates.csv, messages/<day>/sends.csv, costs/<day>/costs.csv and _generated.json "
        "(exact rows per file, facts, planted recall truth, cost totals, defects)."
    )
    parser.add_argument("--landing", default=None, help="landing root folder (default: settings landing_dir)")
    parser.add_argument(
        "--start", type=_date, default=DEFAULT_START, help=f"first day (default {DEFAULT_START})"
    )
    parser.add_argument(
        "--end", type=_date, default=DEFAULT_END, help=f"last day, inclusive (default {DEFAULT_END})"
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=DEFAULT_SCALE,
        help=f"volume, 1.0 = 10M orders over 3 years (default {DEFAULT_SCALE})",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--defects", action="store_true", help="inject known bad rows (recorded in _generated.json)"
    )
    parser.add_argument(
        "--clean", action="store_true", help="remove existing source folders in the landing first"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def run(args: argparse.Namespace) -> int:
    landing = args.landing
    if landing is None:
        from growthops.config import load_settings

        landing = load_settings().landing

    from growthops.commands.progress import Progress

    # Live on a terminal, plain lines in a log; on stderr, so stdout is only the summary.
    progress = Progress(f"generate {args.start} .. {args.end}", file=sys.stderr)
    try:
        with progress:
            summary = generate(
                landing,
                start=args.start,
                end=args.end,
                scale=args.scale,
                seed=args.seed,
                defects=args.defects,
                progress=None if args.quiet else lambda m: progress(f"[generate] {m.split('] ', 1)[-1]}"),
                clean=args.clean,
            )
    except ValueError as exc:
        print(f"generate: {exc}", file=sys.stderr)
        return 2
    print(describe(summary))
    print(f"  summary {Path(landing) / SUMMARY_NAME}")
    print(f"  took {progress.elapsed():.0f}s")
    return 0
