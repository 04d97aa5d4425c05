"""The transform DAG against astronomer-cosmos ``ExecutionMode.WATCHER`` on the same warehouse.

``bench_transform(ctx)`` is a stage of ``growthops.commands.bench`` that runs after ``pipeline``
(it reuses that stage's backfilled warehouse and Airflow home): one run of ``growthops_transform``
(our watcher: one producer ``dbt build``, one task per node) and one run of a cosmos ``DbtDag``
in WATCHER mode with the dbt runner over the same pre-built manifest, each in a fresh process
through ``dag.test()`` (Airflow, dbt and the DAG parse included). The cosmos DAG file is written
to the scratch directory: cosmos is a bench-time comparison, never imported by the project's DAGs.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

COSMOS_DAG = """# an airflow DAG file (the DagBag's safe mode looks for both words)
import json, os
from datetime import datetime, UTC
from pathlib import Path
from cosmos import DbtDag, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode

project = Path(os.environ["GROWTHOPS_DBT_PROJECT_DIR"])
dag = DbtDag(
    dag_id="cosmos_watcher_transform",
    schedule=None,
    start_date=datetime(2023, 1, 1, tzinfo=UTC),
    catchup=False,
    project_config=ProjectConfig(
        dbt_project_path=project, manifest_path=project / "target" / "manifest.json",
        partial_parse=True,
    ),
    profile_config=ProfileConfig(
        profile_name="growthops", target_name="duckdb", profiles_yml_filepath=project / "profiles.yml"
    ),
    render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST),
    execution_config=ExecutionConfig(
        execution_mode=ExecutionMode.WATCHER, invocation_mode=InvocationMode.DBT_RUNNER
    ),
    operator_args={"vars": json.loads(os.environ["BENCH_DBT_VARS"]), "install_deps": False},
)
"""


def _run(dag_id: str, day: str, log_path: Path, env: dict[str, str]) -> dict[str, Any]:
    from growthops.orchestration.dags_test import dags_test_many

    t = time.perf_counter()
    res = dags_test_many([{"dag_id": dag_id, "logical_date": day}], log_path=log_path, env=env)
    return {"seconds": round(time.perf_counter() - t, 1), "ok": bool(res) and all(r["ok"] for r in res),
            "log": str(log_path)}  # fmt: skip


def bench_transform(ctx: Any) -> dict[str, Any]:
    """``growthops.commands.bench`` stage (after ``pipeline``)."""
    import json

    from growthops.build.dbt import DBT_PROJECT_DIR, dbt_env, dbt_vars
    from growthops.config import load_settings

    repo = Path(__file__).resolve().parents[3]
    env = {
        "GROWTHOPS_DATA_DIR": str(ctx.workdir / "pipeline-data"),
        "GROWTHOPS_LANDING_DIR": str(ctx.landing),
        "AIRFLOW_HOME": str(ctx.workdir / "pipeline-airflow"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(repo / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "GROWTHOPS_DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
    }
    os.environ.update(env)
    settings = load_settings()
    env |= dbt_env(settings) | {"BENCH_DBT_VARS": json.dumps(dbt_vars(settings))}
    day = ctx.end.isoformat()
    designs = os.environ.get("BENCH_TRANSFORM_DESIGNS", "ours,cosmos").split(",")
    none = {"seconds": None, "ok": False}
    ours = cosmos = none
    if "ours" in designs:
        ours = _run("growthops_transform", day, ctx.workdir / "transform-ours.log",
                    env | {"AIRFLOW__CORE__DAGS_FOLDER": str(repo / "dags")})  # fmt: skip
    if "cosmos" in designs:
        cosmos_dags = ctx.workdir / "cosmos-dags"
        cosmos_dags.mkdir(exist_ok=True)
        (cosmos_dags / "cosmos_watcher_transform.py").write_text(COSMOS_DAG, encoding="utf-8")
        cosmos = _run("cosmos_watcher_transform", day, ctx.workdir / "transform-cosmos.log",
                      env | {"AIRFLOW__CORE__DAGS_FOLDER": str(cosmos_dags)})  # fmt: skip
    print(f"  transform ours {ours}, cosmos watcher {cosmos}", file=sys.stderr, flush=True)
    return {
        "ours_watcher_seconds": ours["seconds"],
        "ours_watcher_ok": ours["ok"],
        "cosmos_watcher_seconds": cosmos["seconds"],
        "cosmos_watcher_ok": cosmos["ok"],
    }
