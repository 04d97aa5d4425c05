"""``make demo``: generate sample exports, run the pipeline through Airflow, print the marts.

1. generate deterministic exports for the demo range into ``<data>/landing``;
2. ``growthops_backfill`` (one Airflow run) loads all days but the last and publishes;
3. the daily path for the last day: the four ingest DAGs, then ``growthops_transform``
   (dbt model by model, mart gate, publish);
4. print a funnel per channel and a cohort retention table from the serving file.

Airflow's own output goes to ``<data>/logs/demo/``; this prints one line per step.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import date, timedelta

from growthops.config import load_settings

INGEST_DAGS = (
    "growthops_ingest_fx",
    "growthops_ingest_channel",
    "growthops_ingest_crm",
    "growthops_ingest_orders",
)


def main(argv: list[str] | None = None) -> int:
    from growthops.airflow_cli import dags_test
    from growthops.generate import generate
    from growthops.summary import marts_summary

    p = argparse.ArgumentParser(prog="growthops.demo", description=__doc__)
    p.add_argument("--start", type=date.fromisoformat, default=date(2025, 1, 1))
    p.add_argument("--end", type=date.fromisoformat, default=date(2025, 6, 30))
    p.add_argument("--scale", type=float, default=0.02)
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args(argv)

    settings = load_settings()
    started = time.monotonic()
    print(f"growthops demo — data root {settings.data_dir}")
    for sub in ("landing", "quarantine", "warehouse", "runs", "dbt", "logs"):
        shutil.rmtree(settings.data_dir / sub, ignore_errors=True)
    log_dir = settings.data_dir / "logs" / "demo"

    t = time.monotonic()
    summary = generate(settings.landing_dir, args.start, args.end, scale=args.scale, seed=args.seed)
    totals = summary.get("totals", {})
    print(
        f"[1/4] generated exports {args.start} .. {args.end}: "
        + ", ".join(f"{k} {v:,}" for k, v in totals.items())
        + f" ({time.monotonic() - t:.0f}s)"
    )

    steps = [
        (
            "[2/4] backfill",
            "growthops_backfill",
            args.end.isoformat(),
            {"start": args.start.isoformat(), "end": (args.end - timedelta(days=1)).isoformat()},
        ),
        *[("[3/4] daily", dag_id, args.end.isoformat(), None) for dag_id in INGEST_DAGS],
        ("[3/4] daily", "growthops_transform", args.end.isoformat(), None),
    ]
    for label, dag_id, logical_date, conf in steps:
        res = dags_test(dag_id, logical_date, conf=conf, log_dir=log_dir)
        what = f"{dag_id} {logical_date}" + (f" ({conf['start']} .. {conf['end']})" if conf else "")
        print(f"{label} {what}: {'ok' if res.ok else 'FAILED'} ({res.seconds:.0f}s)")
        if not res.ok:
            print(res.tail(60), file=sys.stderr)
            print(f"\nfull Airflow log: {res.log_path}", file=sys.stderr)
            print(f"failure reports: {settings.runs_dir}", file=sys.stderr)
            return 1

    print(f"\n[4/4] published marts — {settings.serving_path} (open it read-only)\n")
    print(marts_summary(settings.serving_path, settings.reporting_currency))
    print(f"\ndemo finished in {time.monotonic() - started:.0f}s. Airflow logs: {log_dir}")
    print("next: `make airflow` for the UI, `.venv/bin/growthops status` for freshness and versions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
