"""Helpers to make a data world for tests: a data root in tmp, generated exports, a backfill.

Importable from every test folder (``tests/`` is on ``sys.path`` through the root conftest).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from growthops.config import Settings, load_settings

# The shared world (root conftest ``published_world``): three months at a tiny scale.
WORLD = {"start": date(2025, 1, 1), "end": date(2025, 3, 31), "scale": 0.005, "seed": 7}
WORLD_RUN = "world_base"

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def point_at(mp: pytest.MonkeyPatch, root: Path) -> None:
    """Point growthops at the data root ``root`` (files count as finished at once, no notifier)."""
    mp.setenv("GROWTHOPS_DATA_DIR", str(root))
    mp.setenv("GROWTHOPS_INGEST_SETTLE_SECONDS", "0")
    for name in ("GROWTHOPS_LANDING_DIR", "GROWTHOPS_CONFIG", "GROWTHOPS_NOTIFY_CONN_ID"):
        mp.delenv(name, raising=False)


def publish_world(root: Path, run_id: str, *, start: date, end: date, scale: float, seed: int) -> Settings:
    """Generate ``start``..``end`` into ``root``'s landing and backfill it, publishing ``run_id``."""
    from growthops.commands.backfill import run_backfill
    from growthops.generate import generate

    with pytest.MonkeyPatch.context() as mp:
        point_at(mp, root)
        settings = load_settings()
        generate(settings.landing_dir, start, end, scale, seed)
        result = run_backfill(settings, start, end, run_id=run_id, progress=lambda _m: None)
    assert result.published_run_id == run_id
    assert result.row_counts["fct_orders"] > 0
    assert result.mart_gate_gx_seconds > 0  # the full gate ran its GX suite, timed for the bench
    return settings


def deliver(settings: Settings, source: str, day: date, name: str, text: str) -> Path:
    """Deliver an export file into landing, aged an hour (so it counts as finished)."""
    path = settings.landing_dir / source / day.isoformat() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    old = time.time() - 3600
    os.utime(path, (old, old))
    return path


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder ``name`` that ``build(folder)`` fills once per test run, shared by the xdist
    workers (a file lock: the first worker builds, the others wait for it and reuse it)."""
    root = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        root = root.parent  # the run's folder, common to its workers
    folder, done = root / name, root / f"{name}.done"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a build that failed in another worker
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


def airflow_subprocess_env(home: Path, data_dir: Path, **settings: str) -> dict[str, str]:
    """Environment of an ``airflow`` subprocess as the Makefile sets it (this repository's DAGs and
    plugins, examples off, this virtualenv first on PATH) with its home at ``home`` and the
    growthops data root at ``data_dir``; the caller's Airflow, growthops and pytest variables are
    left out, ``settings`` (``AIRFLOW__...`` and others) added."""
    prefixes = ("AIRFLOW", "GROWTHOPS_", "PYTEST_", "_AIRFLOW")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
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
            "GROWTHOPS_DATA_DIR": str(data_dir),
            "GX_ANALYTICS_ENABLED": "False",
            **settings,
        }
    )
    return env


def run_checked(argv: list[str], env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` from the repository root; fail the test with its output's tail if it fails."""
    done = subprocess.run(
        argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, (
        f"{argv[:3]} exit {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    )
    return done


def _migrate_airflow(home: Path) -> None:
    env = airflow_subprocess_env(home, home / "no-data-dir-given")
    run_checked([str(BIN / "airflow"), "db", "migrate"], env)
    run_checked([sys.executable, "-m", "growthops.orchestration.airflow_setup"], env)  # the DuckDB pool


def migrated_airflow_home(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    """``home`` (created) holding a SQLite metadata DB at Airflow's head with the growthops pool,
    what ``make airflow-init`` makes; a copy of one migrated once per test run."""
    template = built_once(tmp_path_factory, "airflow_migrated", _migrate_airflow)
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy2(template / "airflow.db", home / "airflow.db")
    return home


@dataclass
class AirflowEnv:
    """A throw-away Airflow: ``home`` holds a migrated SQLite metadata DB; ``env`` runs the
    ``airflow`` CLI (or a ``dag.test()`` process) on it with this repository's DAGs and plugins."""

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

    def asset_events(self, uri: str) -> list[dict]:
        """The ``extra`` of every event of the asset ``uri``."""
        import json

        rows = self.query(
            "select e.extra from asset_event e join asset a on a.id = e.asset_id where a.uri = ?", (uri,)
        )
        return [json.loads(r[0]) for r in rows]


# The ingest DAG runs of ``ingest_dag_runs`` (root conftest): a day per source, then the orders DAG
# on a day whose file lacks a required column (quarantined, the task fails and writes its report).
INGEST_DAYS = {
    "fx": date(2025, 1, 2),
    "channel": date(2025, 1, 3),
    "crm": date(2025, 1, 4),
    "orders": date(2025, 1, 5),
}
ONE_PROCESS_SOURCES = ("fx", "channel", "crm")
BAD_ORDERS_DAY = date(2025, 1, 7)


def run_ingest_dags(airflow: AirflowEnv, data: Path) -> dict:
    """Break the orders file of ``BAD_ORDERS_DAY``, then run the ingest DAGs of
    ``ONE_PROCESS_SOURCES`` and the orders DAG on that day, each a full ``dag.test()`` (what
    ``airflow dags test`` does), in ONE child process: Airflow, GX and the DAG bag start once
    (~40 s per process on two busy cores). The failing run is last: the runner stops at the
    first failed run."""
    from growthops.orchestration.dags_test import dags_test_many

    path = data / "landing" / "orders" / BAD_ORDERS_DAY.isoformat() / "orders.csv"
    path.write_bytes(path.read_bytes().replace(b"order_id,", b"id,", 1))
    runs = [
        {"dag_id": f"growthops_ingest_{s}", "logical_date": INGEST_DAYS[s].isoformat()}
        for s in ONE_PROCESS_SOURCES
    ]
    runs.append({"dag_id": "growthops_ingest_orders", "logical_date": BAD_ORDERS_DAY.isoformat()})
    log_path = data / "logs" / "ingest-dags-one-process.log"
    orders_events_before = len(airflow.asset_events("growthops://raw/orders"))
    results = dags_test_many(
        runs,
        log_path=log_path,
        env={**airflow.env, "GROWTHOPS_DATA_DIR": str(data), "GROWTHOPS_INGEST_SETTLE_SECONDS": "0"},
    )
    return {
        "results": results,
        "log": log_path.read_text(),
        "bad_file": path,
        "orders_events": (orders_events_before, len(airflow.asset_events("growthops://raw/orders"))),
    }
