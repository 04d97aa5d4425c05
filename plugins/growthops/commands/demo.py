"""``make demo``: generate sample exports, run the pipeline through Airflow, print the marts.

1. generate deterministic exports for the demo range into ``<data>/landing``;
2. ``growthops_backfill`` (one Airflow run) loads all days but the last and publishes;
3. the daily path for the last day: the four ingest DAGs, then ``growthops_transform``
   (dbt model by model, mart gate, publish);
4. print a funnel per channel and a cohort retention table from the serving file.

Airflow's own output goes to ``<data>/logs/demo/``; this prints one line per step. Each task's
log also goes where the Airflow UI reads it (``$AIRFLOW_HOME/logs``, see
:mod:`growthops.orchestration.task_logs`): ``make airflow`` afterwards shows the demo's runs with
their task logs and the links to their reports.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from growthops.config import load_settings
from growthops.sources import DECLARED

INGEST_DAGS = tuple(source.dag_id for source in DECLARED)


def _task_log_folder() -> str:
    """``[logging] base_log_folder`` as the Airflow child sees it (its default: ``$AIRFLOW_HOME/logs``)."""
    home = Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")
    return os.environ.get("AIRFLOW__LOGGING__BASE_LOG_FOLDER") or str(home / "logs")


def main(argv: list[str] | None = None) -> int:
    from growthops.commands.summary import marts_summary
    from growthops.generate import generate
    from growthops.orchestration.dags_test import dags_test_many

    p = argparse.ArgumentParser(prog="growthops.commands.demo", description=__doc__)
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

    # One child process runs every DAG run with dag.test() (what `airflow dags test` does), so
    # Airflow, GX and dbt start once; Airflow's own output goes to the log file.
    backfill_end = (args.end - timedelta(days=1)).isoformat()
    runs = [
        {
            "dag_id": "growthops_backfill",
            "logical_date": args.end.isoformat(),
            "conf": {"start": args.start.isoformat(), "end": backfill_end},
        },
        *[{"dag_id": dag_id, "logical_date": args.end.isoformat()} for dag_id in INGEST_DAGS],
        {"dag_id": "growthops_transform", "logical_date": args.end.isoformat()},
    ]
    log_path = log_dir / "airflow-dags-test.log"

    def show(r: dict) -> None:
        label = "[2/4] backfill" if r["dag_id"] == "growthops_backfill" else "[3/4] daily"
        extra = f" ({args.start} .. {backfill_end})" if r["dag_id"] == "growthops_backfill" else ""
        state = "ok" if r["ok"] else "FAILED"
        print(
            f"{label} {r['dag_id']} {r['logical_date'] or ''}{extra}: {state} ({r['seconds']:.0f}s)",
            flush=True,
        )

    def tick(elapsed: float, last_task: str | None) -> None:
        print(f"      ... {elapsed:.0f}s" + (f", last task {last_task}" if last_task else ""), flush=True)

    print("[2/4] starting Airflow (dag.test of every run, in one process) ...", flush=True)
    results = dags_test_many(runs, log_path=log_path, on_result=show, on_tick=tick)
    if len(results) < len(runs) or not all(r["ok"] for r in results):
        text = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        print("\n".join(text[-60:]), file=sys.stderr)
        print(f"\nfull Airflow log: {log_path}", file=sys.stderr)
        print(f"failure reports: {settings.runs_dir}", file=sys.stderr)
        return 1

    print(f"\n[4/4] published marts — {settings.serving_path} (open it read-only)\n")
    print(marts_summary(settings.serving_path, settings.reporting_currency))
    print(f"\ndemo finished in {time.monotonic() - started:.0f}s. Airflow log: {log_path}")
    print(f"task logs for the Airflow UI: {_task_log_folder()} (`make airflow`, then open a demo run)")
    print(
        "next: `make airflow` for the UI, "
        f"`.venv/bin/growthops status --as-of {args.end + timedelta(days=1)}T08:00` for freshness and versions "
        "(--as-of: the demo's exports end on that day, not today)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
