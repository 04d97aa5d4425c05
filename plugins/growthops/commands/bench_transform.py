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

import sys
import time
from pathlib import Path
from typing import Any


def _run(dag_id: str, day: str, log_path: Path, env: dict[str, str]) -> dict[str, Any]:
    from growthops.orchestration.dags_test import dags_test_many

    t = time.perf_counter()
    res = dags_test_many([{"dag_id": dag_id, "logical_date": day}], log_path=log_path, env=env)
    return {"seconds": round(time.perf_counter() - t, 1), "ok": bool(res) and all(r["ok"] for r in res),
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
    return {"transform_dag_seconds": ours["seconds"], "transform_dag_ok": ours["ok"]}
