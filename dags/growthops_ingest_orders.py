"""
### growthops_ingest_orders — load the daily shop orders export into `raw.shop_orders`

One run per export day D (logical date D, started once D is over; catchup from the start date).
Export: `<landing>/orders/<day>/orders.csv` (or `.jsonl` / `.parquet`).

1. **wait_for_orders_export** — sensor in reschedule mode (holds no worker slot between pokes):
   waits until the day's files are there and finished (no `.part`/`.tmp` name, mtime settled).
   Fails fast once the export is overdue (`expected_by` + `stale_after_days` in the config).
2. **load_orders** — pool `growthops_duckdb` (one DuckDB writer): header check, raw gate
   (GX suite `expectations/orders.json`), row rejects with file + line + rule in `raw.rejects`,
   one ledger row per file in `raw.load_ledger`. Emits Asset `growthops://raw/orders` only on success.

A re-delivered identical file is a no-op; a corrected file replaces the day's batch. A bad file is
moved to `<data>/quarantine/orders/<day>/` with a report; the task fails without retry, naming
file, lines and rule (report also under `<data>/runs/`). Replay: fix the file, drop it back into
landing and clear the task, or `growthops replay orders <day>`. Lock and I/O errors retry with backoff.
Param `day` overrides the export day of a manual run.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import CronDataIntervalTimetable, dag

from growthops.orchestration.ingest_tasks import DEFAULT_ARGS, PARAMS, load_export, wait_for_export


@dag(
    dag_id="growthops_ingest_orders",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),  # run for day D starts when D ends
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=True,
    max_active_runs=4,
    default_args=DEFAULT_ARGS,
    params=PARAMS,
    tags=["growthops", "ingest", "orders"],
    doc_md=__doc__,
)
def growthops_ingest_orders():
    wait_for_export("orders") >> load_export("orders")


growthops_ingest_orders()
