"""Fixtures: a real PostgreSQL server on loopback, and Airflow initialised on it by the compose init.

``postgres_server`` (session): a running :class:`pg_server.PostgresServer`; tests using it skip,
    with the reason, where PostgreSQL cannot start.
``pg_database`` (function): a fresh empty database name on that server.
``airflow_on_postgres`` (session): Airflow's metadata database on that server, initialised by the
    airflow-init command of docker-compose.yml run on this machine (migrate, pool, admin user,
    dbt parse) with the x-airflow-common environment, container paths mapped to temporary
    folders. Its ``env`` runs ``airflow`` / ``growthops`` subprocesses against it; ``dsn`` and
    ``dbt_env`` point dbt-postgres at a database on the same server.
``airflow_driver`` (session): ONE Airflow process on ``airflow_on_postgres`` (``airflow_pipeline.py``):
    the probe of what Airflow reads from the initialised database, then two days of exports through
    the ingest and transform DAGs.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from airflow_pipeline import DriverRun, run_driver
from compose_env import REPO_ROOT, airflow_common_env, init_command
from pg_server import PostgresServer, PostgresUnavailable, airflow_env, dbt_postgres_env

INIT_TIMEOUT = 600


@pytest.fixture(scope="session")
def postgres_server():
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        pytest.skip("psycopg2 is not installed: `uv sync --frozen --extra postgres` (make install)")
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL cannot start here: {exc}")
    yield server
    server.stop()


_counter = iter(range(1_000_000))


@pytest.fixture
def pg_database(postgres_server) -> str:
    return postgres_server.create_database(f"test_{next(_counter)}")


@dataclass
class AirflowOnPostgres:
    """Airflow initialised on ``database`` of ``server`` exactly as the compose init does it."""

    server: PostgresServer
    database: str
    airflow_home: Path
    data_dir: Path
    dbt_project_dir: Path
    passwords_file: Path
    admin_user: str
    admin_password: str
    env: dict[str, str]
    init_runs: list[subprocess.CompletedProcess[str]] = field(default_factory=list)
    init_seconds: list[float] = field(default_factory=list)

    @property
    def dsn(self) -> str:
        return self.server.dsn(self.database)

    def dbt_env(self, database: str) -> dict[str, str]:
        """``env`` plus the variables selecting dbt's postgres target on ``database``."""
        return {**self.env, **dbt_postgres_env(self.server, database)}

    def run(self, *argv: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
        """Run a command (``airflow ...``, ``growthops ...``) against this Airflow; never raises."""
        return subprocess.run(
            list(argv),
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=REPO_ROOT,
        )

    def run_init(self) -> subprocess.CompletedProcess[str]:
        """Run docker-compose.yml's airflow-init command once more (it runs on every `up`)."""
        started = time.monotonic()
        result = self.run(*init_command(), timeout=INIT_TIMEOUT)
        self.init_seconds.append(time.monotonic() - started)
        self.init_runs.append(result)
        return result


@pytest.fixture(scope="session")
def airflow_on_postgres(postgres_server, tmp_path_factory) -> AirflowOnPostgres:
    root = tmp_path_factory.mktemp("airflow-on-postgres")
    airflow_home = root / "airflow"
    data_dir = root / "data"
    dbt_project_dir = root / "dbt_project"
    shutil.copytree(
        REPO_ROOT / "dbt_project",
        dbt_project_dir,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"),
    )
    database = postgres_server.create_database("airflow")
    admin_user, admin_password = "airflow", secrets.token_urlsafe(12)
    variables = {
        "AIRFLOW_JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW_API_SECRET_KEY": secrets.token_hex(32),
        "_AIRFLOW_WWW_USER_USERNAME": admin_user,
    }
    compose_env = airflow_common_env(
        variables,
        {
            # every folder the services write goes to a temporary folder, never the repository
            "/opt/growthops/data": str(data_dir),
            "/opt/growthops/dbt_project": str(dbt_project_dir),
            "/opt/airflow": str(airflow_home),
            "/opt/airflow/logs": str(airflow_home / "logs"),
            "/opt/airflow/auth": str(airflow_home / "auth"),
        },
    )
    env = airflow_env(postgres_server, database, airflow_home=airflow_home, data_dir=data_dir)
    env.update(compose_env)
    env.update(
        {
            # the one value that differs from the container: the metadata DB is on loopback
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres_server.sqlalchemy_url(database),
            # the init service's own environment
            "AIRFLOW_UID": str(os.getuid()),
            "_AIRFLOW_WWW_USER_USERNAME": admin_user,
            "_AIRFLOW_WWW_USER_PASSWORD": admin_password,
        }
    )
    airflow = AirflowOnPostgres(
        server=postgres_server,
        database=database,
        airflow_home=airflow_home,
        data_dir=data_dir,
        dbt_project_dir=dbt_project_dir,
        passwords_file=Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]),
        admin_user=admin_user,
        admin_password=admin_password,
        env=env,
    )
    result = airflow.run_init()
    if result.returncode != 0:
        pytest.fail(
            f"docker-compose airflow-init failed on PostgreSQL (exit {result.returncode}):\n"
            f"{(result.stdout + result.stderr)[-6000:]}"
        )
    return airflow


@pytest.fixture(scope="session")
def airflow_driver(airflow_on_postgres) -> DriverRun:
    """The probe and the nine DAG runs on ``airflow_on_postgres``, in one Airflow process."""
    return run_driver(airflow_on_postgres)
