"""Fixtures every test folder shares: one generated, published data world per test run.

``published_world`` (session) generates three months of sample exports at a tiny scale (the
project's generator, fixed seed) and publishes them through the backfill path (ingestion, dbt
build, mart gate, publish; run ``world.WORLD_RUN``) once per test run. It is read-only: a suite
that changes it works on its own copy (``copy_world``; copying the data root is far cheaper than a
second generate + dbt build). Suites whose world must differ (other dbt vars, a few days only,
hand-made rows) keep their own fixtures in their folder's conftest.

``airflow_env`` (session) is a throw-away Airflow (SQLite metadata DB migrated once per test run);
``ingest_dag_runs`` runs ingest DAGs end to end on it in one Airflow process (``world.run_ingest_dags``),
read by the DAG tests and by the Airflow UI test (its failed ``load_orders`` run).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from distribute import assign_groups, distributed
from world import (
    WORLD,
    WORLD_RUN,
    AirflowEnv,
    airflow_subprocess_env,
    migrated_airflow_home,
    publish_world,
    run_ingest_dags,
)

from growthops.config import Settings


def pytest_configure(config: pytest.Config) -> None:
    """Import Airflow once, before any test runs.

    Airflow's import configures the root logger with a handler bound to ``sys.stderr`` as it is at
    that moment. Imported first inside a test that captures stderr (``capsys``), that handler would
    keep the test's stream, closed when the test ends, and every later log record in the run would
    print "--- Logging error --- Traceback" into whatever test is running. Here stderr is pytest's
    session-wide capture, open until the end of the run.

    The xdist controller (``-n N``) runs no test: it skips the import (seconds of CPU the workers
    would otherwise share with it).
    """
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return
    import airflow  # noqa: F401


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``make test`` (xdist, ``--dist loadgroup``): tests sharing a session world run on one
    worker, longest groups first (``distribute.py``)."""
    if distributed(config):
        assign_groups(items)


@pytest.fixture(scope="session")
def published_world(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The data root serving run ``WORLD_RUN`` of the ``WORLD`` range. Do not write to it."""
    return publish_world(tmp_path_factory.mktemp("world") / "data", WORLD_RUN, **WORLD)


@pytest.fixture(scope="session")
def copy_world(published_world: Settings) -> Callable[[Path], Path]:
    """``copy_world(dest)`` copies the published world's data root to ``dest`` (a new folder)."""

    def _copy(dest: Path) -> Path:
        shutil.copytree(published_world.data_dir, dest)
        return dest

    return _copy


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> AirflowEnv:
    home = migrated_airflow_home(tmp_path_factory, tmp_path_factory.mktemp("airflow_home"))
    return AirflowEnv(home=home, env=airflow_subprocess_env(home, home / "no-data-dir-given"))


@pytest.fixture(scope="session")
def ingest_dag_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A data root with a week of generated exports (no warehouse yet) and the generator's summary."""
    from datetime import date

    from growthops.generate import generate

    data = tmp_path_factory.mktemp("e2e_data")
    summary = generate(data / "landing", date(2025, 1, 1), date(2025, 1, 8), scale=0.02, seed=11)
    return data, summary


@pytest.fixture(scope="session")
def ingest_dag_runs(airflow_env: AirflowEnv, ingest_dag_data: tuple[Path, dict]) -> dict:
    """``world.run_ingest_dags`` on ``airflow_env`` and ``ingest_dag_data``, once per test run."""
    return run_ingest_dags(airflow_env, ingest_dag_data[0])


@pytest.fixture
def broken_orders_suite(tmp_path, monkeypatch) -> str:
    """The raw gate's orders suite, copied, with an expectation on a column no orders file has
    (GX fails inside the validation: a validator error, not a data failure). Returns the column."""
    import json

    from growthops.ingest import gate

    column = "ghost_column"
    suites = tmp_path / "expectations"
    shutil.copytree(gate.EXPECTATIONS_DIR, suites)
    broken = json.loads((suites / "orders.json").read_text())
    broken["expectations"].append(
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": column, "min_value": 0}}
    )
    (suites / "orders.json").write_text(json.dumps(broken))
    monkeypatch.setattr(gate, "EXPECTATIONS_DIR", suites)
    return column
