"""Airflow on PostgreSQL, end to end: two days of exports through the ingest and transform DAGs.

Airflow's metadata database is a real PostgreSQL 15 on loopback, initialised by docker-compose's
airflow-init (``airflow_on_postgres``); the warehouse is PostgreSQL too (dbt target ``postgres``,
another database on the same server), so the transform DAG's ``sync_raw`` task, the dbt tasks
rendered from the manifest, the mart gate and the schema-swap publication all run.

The runs go through ``DAG.test()`` in one process shared with the probe of
test_airflow_postgres.py (``airflow_driver``, conftest.py; ``airflow_pipeline.py``): a real DagRun
and real task instances recorded in the metadata database, every task run in-process, whatever the
executor configuration (the compose environment sets the LocalExecutor). The four ingest DAGs run
for each of the two days, then the transform (scheduled on the four raw Assets) builds, audits and
publishes both days; a transform run is ~50 dbt tasks (~1 s each).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from airflow_pipeline import DAYS, INGEST_DAGS, RUNS_PREFIX, TRANSFORM_DAG

pytestmark = pytest.mark.postgres

SOURCES = {"fx": "rates.csv", "channel": "*.csv", "crm": "contacts.csv", "orders": "orders.csv"}


def _landing_rows(landing: Path, source: str) -> list[dict]:
    rows = []
    for day in DAYS:
        for path in sorted((landing / source / day.isoformat()).glob(SOURCES[source])):
            with path.open(encoding="utf-8-sig", newline="") as fh:
                rows += list(csv.DictReader(fh))
    return rows


@pytest.fixture(scope="module")
def pipeline(airflow_on_postgres, airflow_driver):
    driver = airflow_driver
    assert driver.result.returncode == 0, driver.log[-6000:]
    runs = driver.line(RUNS_PREFIX)
    print("seconds per DAG run:", [(r["dag_id"], r["day"], r["seconds"]) for r in runs])
    return {
        "af": airflow_on_postgres,
        "warehouse_db": driver.warehouse_db,
        "landing": driver.landing,
        "runs": runs,
        "plan": driver.plan,
        "log": driver.log,
    }


def test_every_dag_run_succeeded_and_is_recorded_in_the_postgres_metadata_db(pipeline):
    af, runs = pipeline["af"], pipeline["runs"]
    assert [(r["dag_id"], r["day"]) for r in runs] == pipeline["plan"], pipeline["log"][-6000:]
    failed = [r for r in runs if r["state"] != "success"]
    assert not failed, pipeline["log"][-6000:]
    recorded = af.server.query(
        "select dag_id, run_id, state from dag_run where starts_with(dag_id, 'growthops_') order by dag_id, run_id",
        database=af.database,
    )
    assert sorted(recorded) == sorted((r["dag_id"], r["run_id"], "success") for r in runs)
    # every task instance of every run succeeded (none skipped, none retried into success)
    states = af.server.query(
        "select dag_id, state, count(*), max(try_number) from task_instance group by dag_id, state",
        database=af.database,
    )
    assert {dag_id for dag_id, *_ in states} == {*INGEST_DAGS, TRANSFORM_DAG}
    assert all(state == "success" and tries == 1 for _, state, _, tries in states), states


def test_transform_ran_sync_dbt_gate_and_publish_as_tasks(pipeline):
    af = pipeline["af"]
    tasks = {
        task_id
        for (task_id,) in af.server.query(
            "select distinct task_id from task_instance where dag_id = %s and state = 'success'",
            (TRANSFORM_DAG,),
            database=af.database,
        )
    }
    assert {"sync_raw", "mart_gate", "publish"} <= tasks
    assert {"dbt.build", "dbt.fct_orders", "dbt.mart_cohort_retention"} <= tasks  # producer + per-model tasks
    assert len([t for t in tasks if t.startswith("dbt.")]) > 20


def test_assets_were_emitted_per_source_and_day_and_for_the_marts(pipeline):
    af = pipeline["af"]
    events = af.server.query(
        "select a.uri, count(*) from asset_event e join asset a on a.id = e.asset_id group by a.uri",
        database=af.database,
    )
    by_uri = dict(events)
    for source in SOURCES:
        assert by_uri.get(f"growthops://raw/{source}") == len(DAYS), by_uri
    marts = [uri for uri in by_uri if "marts" in uri]
    assert [u.rstrip("/") for u in marts] == ["growthops://marts"] and by_uri[marts[0]] == 1, by_uri


def test_the_published_marts_hold_both_days_and_match_the_exports(pipeline):
    af, db, landing = pipeline["af"], pipeline["warehouse_db"], pipeline["landing"]
    transform_runs = [r["run_id"] for r in pipeline["runs"] if r["dag_id"] == TRANSFORM_DAG]
    log = af.server.query("select run_id from meta.publish_log order by published_at", database=db)
    assert [r for (r,) in log] == transform_runs  # the Airflow run ids are the published versions

    orders = _landing_rows(landing, "orders")
    published = {oid for (oid,) in af.server.query("select order_id from marts.fct_orders", database=db)}
    assert published == {r["order_id"] for r in orders} and len(published) > 50

    channel = _landing_rows(landing, "channel")
    impressions = sum(int(r.get("impressions") or r.get("Impr.") or r.get("Impressions")) for r in channel)
    funnel = af.server.query(
        "select min(report_date), max(report_date), sum(impressions) from marts.mart_channel_funnel_daily",
        database=db,
    )[0]
    assert funnel == (DAYS[0], DAYS[-1], impressions)

    contacts = {r["contact_id"] for r in _landing_rows(landing, "crm")}
    signups = af.server.query("select sum(signups) from marts.mart_channel_funnel_daily", database=db)[0][0]
    assert signups == len(contacts) > 0
    # the unpublished build schema is kept for the next incremental run; no half-swapped schema
    schemas = {s for (s,) in af.server.query("select nspname from pg_namespace", database=db)}
    assert {"raw", "marts", "marts_build", "meta"} <= schemas and "marts_previous" not in schemas
