"""The one Airflow process of the Airflow-on-PostgreSQL tests (``airflow_driver``, conftest.py).

Airflow initialised on PostgreSQL (``airflow_on_postgres``) is asked two things, in ONE child
process so that Airflow, GX and dbt are imported once (~40 s per process on two busy cores):

- the probe: what Airflow itself reads from the compose environment and the initialised metadata
  database (``airflow db check`` / ``check-migrations``, the auth manager's users), read first,
  before any DAG runs;
- two days of exports through the four ingest DAGs and the transform DAG, each run through
  ``DAG.test()`` (what ``airflow dags test`` does: a real DagRun and real task instances recorded
  in the metadata database, every task run in-process); the runner stops at the first failed run.

The process prints one ``GROWTHOPS_PROBE`` and one ``GROWTHOPS_RUNS`` line (JSON); the probe
tests (test_airflow_postgres.py) and the pipeline tests (test_airflow_postgres_pipeline.py) each
read and check their own line.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

DAYS = (date(2025, 1, 1), date(2025, 1, 2))
INGEST_DAGS = (
    "growthops_ingest_fx",
    "growthops_ingest_channel",
    "growthops_ingest_crm",
    "growthops_ingest_orders",
)
TRANSFORM_DAG = "growthops_transform"
PROBE_PREFIX, RUNS_PREFIX = "GROWTHOPS_PROBE ", "GROWTHOPS_RUNS "

DRIVER = r"""
import json, sys, time
from datetime import datetime, timezone

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager as M
from airflow.configuration import conf
from airflow.utils import db
from airflow.utils.cli import get_bagged_dag

db.check()  # what `airflow db check` runs: the configured engine answers
db.check_migrations(timeout=1)  # what `airflow db check-migrations` runs: raises unless at head
print("GROWTHOPS_PROBE " + json.dumps({
    "db_ok": True,
    "sql_alchemy_conn": conf.get("database", "sql_alchemy_conn"),
    "auth_manager": conf.get("core", "auth_manager"),
    "users": [[u.username, u.role] for u in M.get_users()],
    "passwords": M.get_passwords(),
    "executor": conf.get("core", "executor"),
    "jwt": conf.get("api_auth", "jwt_secret"),
    "dags_folder": conf.get("core", "dags_folder"),
}), flush=True)

runs = []
for dag_id, day in json.loads(sys.argv[1]):
    dag = get_bagged_dag(bundle_names=None, dag_id=dag_id)
    started = time.monotonic()
    dr = dag.test(logical_date=datetime.fromisoformat(day).replace(tzinfo=timezone.utc))
    runs.append({"dag_id": dag_id, "day": day, "run_id": dr.run_id, "state": str(dr.state),
                 "seconds": round(time.monotonic() - started, 1)})
    if str(dr.state) != "success":
        break
print("GROWTHOPS_RUNS " + json.dumps(runs))
"""


@dataclass
class DriverRun:
    """The driver process's outcome: ``plan`` (dag_id, day) in order, its result, the databases."""

    warehouse_db: str
    landing: Path
    plan: list[tuple[str, str]]
    result: subprocess.CompletedProcess[str]

    @property
    def log(self) -> str:
        return self.result.stdout + self.result.stderr

    def line(self, prefix: str):
        """The JSON of the process's ``prefix`` line; fails with the log's tail if there is none."""
        lines = [line for line in self.result.stdout.splitlines() if line.startswith(prefix)]
        assert lines, f"exit {self.result.returncode}, no {prefix.strip()} line:\n{self.log[-6000:]}"
        return json.loads(lines[-1].removeprefix(prefix))


def run_driver(af) -> DriverRun:
    """Generate two days into ``af``'s landing and run the probe and the nine DAG runs on ``af``
    (an ``AirflowOnPostgres``), the warehouse a new database on its server. Never raises."""
    from growthops.generate import generate

    warehouse_db = af.server.create_database("growthops_warehouse")
    landing = af.data_dir / "landing"
    generate(landing, DAYS[0], DAYS[-1], scale=0.3, seed=7)
    plan = [(dag_id, day.isoformat()) for day in DAYS for dag_id in INGEST_DAGS]
    plan.append((TRANSFORM_DAG, DAYS[-1].isoformat()))
    result = af.run(
        "python",
        "-c",
        DRIVER,
        json.dumps(plan),
        timeout=1200,
        **af.dbt_env(warehouse_db),
        GROWTHOPS_INGEST_SETTLE_SECONDS="0",
    )
    return DriverRun(warehouse_db=warehouse_db, landing=landing, plan=plan, result=result)
