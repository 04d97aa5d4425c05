"""A throw-away Airflow for end-to-end ``airflow dags test`` runs.

``airflow_env`` gives an AIRFLOW_HOME in tmp (a copy of the SQLite metadata DB migrated once per
test run, the ``growthops_duckdb`` pool created), the repository's DAGs and plugins, and a ``run``
helper that calls the ``airflow`` CLI in a subprocess with extra environment (e.g.
``GROWTHOPS_DATA_DIR``).
"""

from __future__ import annotations

import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from world import BIN, REPO, airflow_subprocess_env, migrated_airflow_home


@dataclass
class AirflowEnv:
    home: Path
    env: dict[str, str]

    def run(self, *args: str, extra_env: dict[str, str] | None = None, timeout: int = 600):
        return subprocess.run(
            [str(BIN / "airflow"), *args],
            env={**self.env, **(extra_env or {})},
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        con = sqlite3.connect(self.home / "airflow.db")
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory) -> AirflowEnv:
    home = migrated_airflow_home(tmp_path_factory, tmp_path_factory.mktemp("airflow_home"))
    return AirflowEnv(home=home, env=airflow_subprocess_env(home, home / "no-data-dir-given"))
