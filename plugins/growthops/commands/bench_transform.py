"""The transform DAG alone, on the warehouse the ``pipeline`` stage backfilled.

``bench_transform(ctx)`` is a stage of ``growthops.commands.bench`` that runs after ``pipeline``
(it reuses that stage's warehouse and Airflow home): one more run of ``growthops_transform`` (one
producer ``dbt build``, one task per node, mart gate, publish) in a fresh process through
``dag.test()``, Airflow start-up, DAG parse and dbt start-up included, with no new data: the
fixed cost of a daily transform.

astronomer-cosmos' ``ExecutionMode.WATCHER`` (1.15.1) was run the same way for comparison and
never finished: its consumer sensors have ``trigger_rule="always"``, so the in-process runner of
``dag.test()`` (one task at a time) starts a consumer first, defers it, and waits in the trigger
for events of a producer that has not run. WATCHER needs an executor that runs the producer and
the sensors side by side; the numbers the cosmos project publishes come from such a deployment.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

PRODUCER_TASK = "dbt.build"


def transform_task_seconds(airflow_db: Path, dag_id: str = "growthops_transform") -> dict[str, float]:
    """Where the latest run of ``dag_id`` spent its time, from the Airflow metadata DB (SQLite, the
    bench's): each task's seconds by task id, except the dbt node tasks that mirror the producer,
    given together as ``dbt node tasks (N)``: from the first one's start to the last one's end.
    Empty when the metadata DB is not the bench's SQLite file or holds no such run."""
    if not airflow_db.is_file():
        return {}
    with sqlite3.connect(f"file:{airflow_db}?mode=ro", uri=True) as con:
        rows = con.execute(
            """
            select task_id, start_date, end_date from task_instance
            where dag_id = ? and start_date is not null and end_date is not null and run_id = (
                select run_id from dag_run where dag_id = ? order by start_date desc limit 1
            )
            order by start_date
            """,
            (dag_id, dag_id),
        ).fetchall()
    spans = [(task, datetime.fromisoformat(a), datetime.fromisoformat(b)) for task, a, b in rows]
    seconds: dict[str, float] = {}
    nodes = [(a, b) for task, a, b in spans if task.startswith("dbt.") and task != PRODUCER_TASK]
    for task, a, b in spans:
        if task == PRODUCER_TASK or not task.startswith("dbt."):
            seconds[task] = round((b - a).total_seconds(), 1)
    if nodes:
        first, last = min(a for a, _ in nodes), max(b for _, b in nodes)
        seconds[f"dbt node tasks ({len(nodes)})"] = round((last - first).total_seconds(), 1)
    return seconds


def _run(dag_id: str, day: str, log_path: Path, env: dict[str, str]) -> dict[str, Any]:
    from growthops.orchestration.dags_test import dags_test_many

    t = time.perf_counter()
    res = dags_test_many([{"dag_id": dag_id, "logical_date": day}], log_path=log_path, env=env)
    return {"seconds": round(time.perf_counter() - t, 1), "ok": bool(res) and all(r["ok"] for r in res),
            "peak_rss_mb": max((r.get("peak_rss_mb") or 0.0 for r in res), default=0.0),
            "log": str(log_path)}  # fmt: skip


def bench_transform(ctx: Any) -> dict[str, Any]:
    """``growthops.commands.bench`` stage (after ``pipeline``)."""
    repo = Path(__file__).resolve().parents[3]
    env = {
        "GROWTHOPS_DATA_DIR": str(ctx.workdir / "pipeline-data"),
        "GROWTHOPS_LANDING_DIR": str(ctx.landing),
        "AIRFLOW_HOME": str(ctx.workdir / "pipeline-airflow"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(repo / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    ours = _run("growthops_transform", ctx.end.isoformat(), ctx.workdir / "transform.log",
                env | {"AIRFLOW__CORE__DAGS_FOLDER": str(repo / "dags")})  # fmt: skip
    print(f"  transform {ours}", file=sys.stderr, flush=True)
    # the transform DAG's own process (as an executor runs its tasks: without the ingest DAGs'
    # Airflow runs, GX and pandas frames in it), the in-process dbt build included
    return {"transform_dag_seconds": ours["seconds"], "transform_dag_ok": ours["ok"],
            "transform_dag_peak_rss_mb": ours["peak_rss_mb"]}  # fmt: skip
