"""
### growthops_transform — build, audit, publish the growth marts

Runs when every raw source Asset (channel, crm, orders, fx) has been updated by its ingest DAG.

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

Never runs twice at once; every task that writes DuckDB takes the one-slot `growthops_duckdb`
pool, shared with the ingest DAGs. Failure reports: `<data>/runs/growthops_transform/<run_id>/`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task

from growthops.build.dbt import MANIFEST_PATH
from growthops.orchestration.airflow_setup import DUCKDB_POOL
from growthops.orchestration.assets import MARTS_ASSET, RAW_ASSETS
from growthops.orchestration.dbt_tasks import render_dbt_tasks
from growthops.orchestration.notify import failure_notifiers

default_args = {
    "owner": "growthops",
    "on_failure_callback": failure_notifiers(),  # off unless a notify connection is configured
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,  # a multiplier in Airflow 3.3: 30 s, 60 s, 120 s
    "max_retry_delay": timedelta(minutes=10),
}


@task(pool=DUCKDB_POOL, doc_md="Target postgres: copy new raw batches to PostgreSQL (else a no-op).")
def sync_raw() -> dict:
    from airflow.sdk.exceptions import AirflowFailException

    from growthops.build.stage import sync_warehouse
    from growthops.config import load_settings
    from growthops.failures import StageFailure
    from growthops.reports import failure_message

    try:
        result = sync_warehouse(load_settings())
    except StageFailure as exc:
        raise AirflowFailException(failure_message(exc.report_path)) from None
    if result is None:
        return {"target": "duckdb", "rows_copied": 0}
    return {"target": "postgres", "rows_copied": result.rows_copied}


@task(pool=DUCKDB_POOL, doc_md="Reconcile marts with raw and check ranges; fail before publication.")
def mart_gate() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from growthops.config import load_settings
    from growthops.failures import StageFailure
    from growthops.gate.stage import mart_gate
    from growthops.reports import failure_message

    try:
        mart_gate(load_settings())
    except StageFailure as exc:
        raise AirflowFailException(failure_message(exc.report_path)) from None


@task(pool=DUCKDB_POOL, outlets=[MARTS_ASSET], doc_md="Atomically publish the audited marts to serving.")
def publish(run_id=None) -> dict:
    from airflow.sdk.exceptions import AirflowFailException

    from growthops.config import load_settings
    from growthops.failures import StageFailure
    from growthops.reports import failure_message
    from growthops.serve.stage import publish_marts

    try:
        result = publish_marts(load_settings(), run_id)
    except StageFailure as exc:
        raise AirflowFailException(failure_message(exc.report_path)) from None
    return {"run_id": result.run_id, "row_counts": result.row_counts}


@dag(
    dag_id="growthops_transform",
    schedule=RAW_ASSETS["channel"] & RAW_ASSETS["crm"] & RAW_ASSETS["orders"] & RAW_ASSETS["fx"],
    start_date=datetime(2023, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["growthops", "transform", "dbt"],
    doc_md=__doc__,
)
def growthops_transform():
    dbt = render_dbt_tasks(MANIFEST_PATH, pool=DUCKDB_POOL)
    sync_raw() >> dbt >> mart_gate() >> publish()


growthops_transform()
