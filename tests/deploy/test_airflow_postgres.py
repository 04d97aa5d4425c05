"""Airflow on a PostgreSQL metadata database, initialised by docker-compose.yml's airflow-init.

The init command of the compose file runs here against a real PostgreSQL server on loopback
(fixtures in conftest.py), with the x-airflow-common environment; only the container paths and
the database host differ from the deployment.
"""

from __future__ import annotations

import json
import os
import pwd
import stat
from pathlib import Path

import pytest
from airflow_pipeline import PROBE_PREFIX

pytestmark = pytest.mark.postgres


def _airflow_migration_head() -> str:
    """The head revision of the installed Airflow's migrations, read from the files (importing
    airflow costs seconds): the one revision that no other names as its down_revision."""
    import importlib.util
    import re

    package = Path(importlib.util.find_spec("airflow").submodule_search_locations[0])
    revisions, parents = set(), set()
    for path in (package / "migrations" / "versions").glob("*.py"):
        text = path.read_text()
        if match := re.search(r'^revision\s*=\s*"([0-9a-f]+)"', text, re.M):
            revisions.add(match.group(1))
        down = re.search(r"^down_revision\s*=\s*(.+)$", text, re.M)
        if down:
            parents.update(re.findall(r'"([0-9a-f]+)"', down.group(1)))
    heads = revisions - parents
    assert len(heads) == 1, heads
    return heads.pop()


def test_postgres_server_is_real_and_unprivileged(postgres_server, pg_database):
    (version_num,) = postgres_server.query("SHOW server_version_num")[0]
    assert int(version_num) >= 150000
    owner = postgres_server.data_dir.stat().st_uid
    if os.geteuid() == 0:
        assert owner == pwd.getpwnam("nobody").pw_uid
    else:
        assert owner == os.geteuid()
    # A fresh database really is empty and usable through its DSN.
    import psycopg2

    with psycopg2.connect(postgres_server.dsn(pg_database)) as con, con.cursor() as cur:
        cur.execute("select count(*) from information_schema.tables where table_schema = 'public'")
        assert cur.fetchone() == (0,)
        cur.execute("create table t (i int); insert into t select generate_series(1, 5)")
        cur.execute("select sum(i) from t")
        assert cur.fetchone() == (15,)


@pytest.fixture(scope="module")
def airflow_probe(airflow_driver) -> dict:
    """What Airflow itself reads from the compose environment and the initialised database (read
    by the driver process before its DAG runs: ``airflow_pipeline.DRIVER``)."""
    return airflow_driver.line(PROBE_PREFIX)


def test_init_migrates_the_metadata_database_to_airflow_head(airflow_on_postgres, airflow_probe):
    af = airflow_on_postgres
    rows = af.server.query("select version_num from alembic_version", database=af.database)
    assert rows == [(_airflow_migration_head(),)]
    tables = {
        name
        for (name,) in af.server.query(
            "select table_name from information_schema.tables where table_schema = 'public'",
            database=af.database,
        )
    }
    assert {"dag", "dag_run", "task_instance", "slot_pool", "asset", "serialized_dag"} <= tables
    assert airflow_probe["db_ok"] is True
    assert airflow_probe["sql_alchemy_conn"] == af.server.sqlalchemy_url(af.database)


def test_init_creates_the_single_slot_duckdb_pool(airflow_on_postgres):
    af = airflow_on_postgres
    rows = af.server.query("select pool, slots from slot_pool order by pool", database=af.database)
    assert ("growthops_duckdb", 1) in rows
    assert [pool for pool, _ in rows].count("growthops_duckdb") == 1


def test_init_configures_the_simple_auth_manager_admin(airflow_on_postgres, airflow_probe):
    af = airflow_on_postgres
    assert json.loads(af.passwords_file.read_text()) == {af.admin_user: af.admin_password}
    assert stat.S_IMODE(af.passwords_file.stat().st_mode) == 0o600
    # Airflow itself, configured by the compose environment, sees that user as admin with it.
    seen = airflow_probe
    assert seen["auth_manager"].endswith("simple_auth_manager.SimpleAuthManager")
    assert seen["users"] == [[af.admin_user, "admin"]]
    assert seen["passwords"] == {af.admin_user: af.admin_password}
    assert seen["executor"] == "LocalExecutor"
    assert seen["jwt"] == af.env["AIRFLOW__API_AUTH__JWT_SECRET"] and len(seen["jwt"]) == 64
    assert seen["dags_folder"] == af.env["AIRFLOW__CORE__DAGS_FOLDER"]


def test_init_builds_the_dbt_manifest(airflow_on_postgres):
    af = airflow_on_postgres
    manifest = json.loads((af.dbt_project_dir / "target" / "manifest.json").read_text())
    assert manifest["metadata"]["project_name"] == "growthops"
    models_on_disk = {p.stem for p in (af.dbt_project_dir / "models").rglob("*.sql")}
    models_in_manifest = {
        node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "model"
    }
    assert models_on_disk, "the dbt project has no models"
    assert models_in_manifest == models_on_disk


def test_init_is_idempotent(airflow_on_postgres):
    """airflow-init runs on every `docker compose up`: a second run changes nothing."""
    af = airflow_on_postgres
    before = af.server.query("select pool, slots from slot_pool order by pool", database=af.database)
    again = af.run_init()
    assert again.returncode == 0, (again.stdout + again.stderr)[-4000:]
    assert af.server.query("select pool, slots from slot_pool order by pool", database=af.database) == before
    assert af.server.query("select version_num from alembic_version", database=af.database) == [
        (_airflow_migration_head(),)
    ]
    assert json.loads(af.passwords_file.read_text()) == {af.admin_user: af.admin_password}


def test_fixture_keeps_every_written_folder_out_of_the_repository(airflow_on_postgres):
    from compose_env import REPO_ROOT

    af = airflow_on_postgres
    written = {
        "AIRFLOW_HOME": af.env["AIRFLOW_HOME"],
        "GROWTHOPS_DATA_DIR": af.env["GROWTHOPS_DATA_DIR"],
        "GROWTHOPS_DBT_PROJECT_DIR": af.env["GROWTHOPS_DBT_PROJECT_DIR"],
        "passwords": af.env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"],
    }
    for name, value in written.items():
        path = Path(value)
        assert path.is_absolute(), name
        assert not path.resolve().is_relative_to(REPO_ROOT), name
    assert af.passwords_file.parent == af.airflow_home / "auth"
    assert (af.dbt_project_dir / "target" / "manifest.json").exists()
