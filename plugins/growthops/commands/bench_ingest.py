"""Ingestion benchmark: GX cost per daily file, and the bulk path on generated exports.

``bench_ingest(ctx)`` is a stage for ``growthops.commands.bench`` (it reads ``ctx.landing`` written by the
``generate`` stage and writes its warehouse under ``ctx.workdir``). Standalone::

    python -m growthops.commands.bench_ingest --landing <landing> --workdir <scratch> [--sources orders]

1. *bulk*: every file of the range through :func:`load_range`, per source: rows, files, seconds,
   rows per second and where the time went (parse, GX, load);
2. *daily*: the middle day's file(s) of each source through :func:`ingest_day` into a second, fresh
   warehouse, in the same warm process (GX already imported): wall time and the gate's share.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

SOURCES = ("fx", "channel", "crm", "orders")


def _settings(landing: Path, data_dir: Path) -> Any:
    from growthops.config import load_settings

    os.environ["GROWTHOPS_DATA_DIR"] = str(data_dir)
    os.environ["GROWTHOPS_LANDING_DIR"] = str(landing)
    os.environ["GROWTHOPS_INGEST_SETTLE_SECONDS"] = "0"
    return load_settings()


def run(landing: Path, workdir: Path, sources: tuple[str, ...] = SOURCES) -> dict[str, Any]:
    from growthops.ingest import gate
    from growthops.ingest.landing import landing_days
    from growthops.ingest.loader import ingest_day, load_range

    t = time.perf_counter()
    gate.warm_up()
    out: dict[str, Any] = {"gx_import_seconds": round(time.perf_counter() - t, 2), "daily": {}, "bulk": {}}
    settings = _settings(landing, workdir / "data-bulk")
    for source in sources:
        start, end = _range(landing)
        res = load_range(settings, source, start, end)
        tm = res.timings
        out["bulk"][source] = {
            "files": len(res.outcomes),
            "rows_loaded": res.rows_loaded,
            "rows_rejected": res.rows_rejected,
            "refused": res.count("quarantined") + res.count("failed"),
            "seconds": round(res.seconds, 2),
            "rows_per_second": round(res.rows_loaded / res.seconds) if res.seconds else None,
            "parse_seconds": round(tm.get("parse", 0) + tm.get("rules", 0), 2),
            "gx_seconds": round(tm.get("gx_rows", 0) + tm.get("gx_files", 0), 2),
            "load_seconds": round(tm.get("load", 0), 2),
        }
    settings = _settings(landing, workdir / "data-daily")
    for source in sources:
        days = landing_days(settings, source, *_range(landing))
        if not days:
            continue
        day = days[len(days) // 2]
        t = time.perf_counter()
        result = ingest_day(settings, source, day)
        wall = time.perf_counter() - t
        tm = result.timings
        out["daily"][source] = {
            "day": day.isoformat(),
            "files": len(result.outcomes),
            "rows": sum(o.rows_in_file or 0 for o in result.outcomes),
            "seconds": round(wall, 3),
            "gx_seconds": round(tm.get("gx_rows", 0) + tm.get("gx_files", 0), 3),
        }
    return out


def _range(landing: Path):
    from datetime import date

    days = sorted(
        date.fromisoformat(p.name)
        for src in SOURCES
        if (landing / src).is_dir()
        for p in (landing / src).iterdir()
        if p.is_dir() and len(p.name) == 10
    )
    return days[0], days[-1]


def bench_ingest(ctx: Any) -> dict[str, Any]:
    """``growthops.commands.bench`` stage: flat metrics (ints) plus the detailed result."""
    result = run(ctx.landing, ctx.workdir)
    orders = result["bulk"].get("orders", {})
    return {
        "orders_rows_loaded": int(orders.get("rows_loaded", 0)),
        "orders_bulk_seconds": orders.get("seconds"),
        "detail": result,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m growthops.commands.bench_ingest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True, help="scratch folder for the warehouse")
    parser.add_argument("--sources", default=",".join(SOURCES))
    args = parser.parse_args(argv)
    sources = tuple(s.strip() for s in args.sources.split(",") if s.strip())
    print(json.dumps(run(args.landing, args.workdir, sources), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
