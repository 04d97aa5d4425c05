"""
### growthops_transform — build, audit, publish the growth marts

Runs when every raw source Asset (one per source declared in `growthops.sources`) has been
updated by its ingest DAG.

0. **sync_raw** — with the `postgres` warehouse target, mirrors the raw tables loaded by the
   ingest DAGs into PostgreSQL (one transaction, new and replaced batches only); with the
   default `duckdb` target it does nothing.
1. **dbt** — one task group per dbt seed, model and snapshot, rendered from the pre-built
   manifest (`make manifest`): `<model>.run` builds it into the private build database,
   `<model>.test` runs its data tests and unit tests. A failed test stops the run: nothing is
   published.
2. **mart_gate** — reconciles the marts with the raw tables (spend, net revenue, every order
   exactly once) and checks ranges (rates in [0, 1], no negative money). A failure names the
   check, observed vs expected, and publishes nothing.
3. **publish** — copies the marts to a new version file, checkpoints and verifies it, then
   atomically replaces `<data>/warehouse/serving.duckdb` (what BI reads); on PostgreSQL it swaps
   the audited `marts_build` schema with `marts` in one transaction. Only this task emits the
   `growthops_marts` Asset.
4. **report** — writes the static growth report of the version just published to
   `<data>/reports/<run_id>/` and `<data>/reports/latest/` (reads the serving file only; a report
   that cannot be built is a warning in its log, never a failed run).

Never runs twice at once; every task that writes DuckDB takes the one-slot `growthops_duckdb`
pool, shared with the ingest DAGs. Failure reports: `<data>/runs/growthops_transform/<run_id>/`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import dag, task

from growthops.build.dbt import MANIFEST_PATH
from growthops.orchestration.airflow_setup import DUCKDB_POOL
from growthops.orchestration.assets import MARTS_ASSET, all_raw_assets
from growthops.orchestration.dbt_tasks import render_dbt_tasks
from growthops.orchestration.policy import DEFAULT_ARGS


@task(pool=DUCKDB_POOL, doc_md="Target postgres: copy new raw batches to PostgreSQL (else a no-op).")
def sync_raw() -> dict:
    from growthops.build.stage import sync_warehouse
    from growthops.config import load_settings
    from growthops.orchestration.policy import run_stage

    result = run_stage(sync_warehouse, load_settings())
    if result is None:
        return {"target": "duckdb", "rows_copied": 0}
    return {"target": "postgres", "rows_copied": result.rows_copied}


@task(pool=DUCKDB_POOL, doc_md="Reconcile marts with raw and check ranges; fail before publication.")
def mart_gate() -> None:
    from growthops.config import load_settings
    from growthops.gate.stage import mart_gate
    from growthops.orchestration.policy import run_stage

    run_stage(mart_gate, load_settings())


@task(pool=DUCKDB_POOL, outlets=[MARTS_ASSET], doc_md="Atomically publish the audited marts to serving.")
def publish(run_id=None) -> dict:
    from growthops.config import load_settings
    from growthops.orchestration.policy import run_stage
    from growthops.serve.stage import publish_marts

    result = run_stage(publish_marts, load_settings(), run_id)
    return {"run_id": result.run_id, "row_counts": result.row_counts}


@task(doc_md="Write the growth report of the published version (HTML under <data>/reports/).")
def report() -> dict | None:
    from growthops.config import load_settings
    from growthops.report.build import report_after_publication

    result = report_after_publication(load_settings())
    return None if result is None else {"run_id": result.run_id, "index": str(result.out_dir / "index.html")}


@dag(
    dag_id="growthops_transform",
    schedule=all_raw_assets(),
    start_date=datetime(2023, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["growthops", "transform", "dbt"],
    doc_md=__doc__,
)
def growthops_transform():
    dbt = render_dbt_tasks(MANIFEST_PATH, pool=DUCKDB_POOL)
    sync_raw() >> dbt >> mart_gate() >> publish() >> report()


growthops_transform()
