"""Multi-host topology: with ``[warehouse] writer_queue`` set, every task that opens the data root
(build warehouse, quarantine, run reports, serving file) goes to that Celery queue; the sensors,
which only read the landing, stay on the default queue so that any worker can poke."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

LIST_TASKS = """
import json
from airflow.dag_processing.dagbag import DagBag
from airflow.configuration import conf
bag = DagBag(dag_folder=%r)
assert not bag.import_errors, bag.import_errors
print(json.dumps({
    "default_queue": conf.get("operators", "default_queue"),
    "tasks": [[d.dag_id, t.task_id, t.pool, t.queue] for d in bag.dags.values() for t in d.tasks],
}))
"""


def dag_tasks(writer_queue: str) -> tuple[str, list[list[str]]]:
    """(default queue, [dag_id, task_id, pool, queue] of every task) of the DAGs parsed in a fresh
    interpreter with ``writer_queue`` set (the queue is read when the DAG files are imported)."""
    env = {**os.environ, "GROWTHOPS_WAREHOUSE_WRITER_QUEUE": writer_queue}
    out = subprocess.run(
        [sys.executable, "-c", LIST_TASKS % str(REPO / "dags")],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    listing = json.loads(out.stdout.strip().splitlines()[-1])
    return listing["default_queue"], listing["tasks"]


@pytest.fixture(scope="module")
def pinned():
    return dag_tasks("growthops_writer")


def test_every_task_that_opens_the_data_root_goes_to_the_writer_queue(pinned):
    default_queue, tasks = pinned
    writers = [t for t in tasks if t[2] == "growthops_duckdb"]
    # ingest loads (6 sources), dbt producer, sync_raw, mart_gate, publish, backfill
    assert {t[1] for t in writers} >= {"load_orders", "load_channel", "sync_raw", "mart_gate", "publish"}
    assert {t[3] for t in writers} == {"growthops_writer"}
    sensors = [t for t in tasks if t[1].startswith("wait_for_")]
    assert len(sensors) == 6 and {t[3] for t in sensors} == {default_queue} != {"growthops_writer"}
    others = [t for t in tasks if t not in sensors]
    assert {t[3] for t in others} == {"growthops_writer"}  # dbt node tasks and report too
    assert any(t[0] == "growthops_transform" and t[1] == "report" for t in others)


def test_without_a_writer_queue_no_task_names_a_queue(monkeypatch):
    """The default (one host, or a shared data folder): Airflow's default queue for every task."""
    from growthops.orchestration import policy

    monkeypatch.delenv("GROWTHOPS_WAREHOUSE_WRITER_QUEUE", raising=False)
    assert policy._queues() == ({}, {})
    monkeypatch.setenv("GROWTHOPS_WAREHOUSE_WRITER_QUEUE", "growthops_writer")
    assert policy._queues()[0] == {"queue": "growthops_writer"}
