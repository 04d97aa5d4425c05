"""A throw-away Airflow for end-to-end ``airflow dags test`` runs, migrated once per test session.

``airflow_env`` gives an AIRFLOW_HOME in tmp (SQLite metadata DB migrated once, the
``growthops_duckdb`` pool created), the repository's DAGs and plugins, and a ``run`` helper that
calls the ``airflow`` CLI in a subprocess with extra environment (e.g. ``GROWTHOPS_DATA_DIR``).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(argv: list[str], env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclass
class AirflowEnv:
    home: Path
    env: dict[str, str]

    def run(self, *args: str, extra_env: dict[str, str] | None = None, timeout: int = 600):
        return _run([str(BIN / "airflow"), *args], {**self.env, **(extra_env or {})}, timeout)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        con = sqlite3.connect(self.home / "airflow.db")
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory) -> AirflowEnv:
    home = tmp_path_factory.mktemp("airflow_home")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "GROWTHOPS_", "PYTEST_", "_AIRFLOW"))
    }
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "PYTHONPATH": str(REPO / "plugins"),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "GROWTHOPS_DATA_DIR": str(home / "no-data-dir-given"),
            "GX_ANALYTICS_ENABLED": "False",
        }
    )
    af = AirflowEnv(home=home, env=env)
    migrate = af.run("db", "migrate")
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    pool = _run([sys.executable, "-m", "growthops.orchestration.airflow_setup"], env)
    assert pool.returncode == 0, pool.stdout + pool.stderr
    return af
