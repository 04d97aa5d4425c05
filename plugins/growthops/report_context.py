"""Where a failure report is written from: the running Airflow task (DAG, task, run, try) or the
``growthops`` CLI (``cli`` / ``<subcommand>`` / ``manual__<process start>``), and whether Airflow
will retry it. Split from :mod:`growthops.reports`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# One CLI process = one run folder (several reports of one invocation stay together).
_CLI_STAMP = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


def _current_context() -> dict[str, Any] | None:
    """The Airflow context of the running task, or None outside a task.

    A task runs inside Airflow's task runner, which has imported ``airflow.sdk`` already; a CLI
    process has not, and must not import Airflow just to learn that (seconds of start-up, and
    Airflow's import reconfigures the process's logging).
    """
    if "airflow.sdk" not in sys.modules:
        return None
    try:
        from airflow.sdk import get_current_context

        return get_current_context()
    except Exception:
        return None


def _airflow_context() -> dict[str, Any]:
    ctx = _current_context()
    if not ctx:
        return {}
    ti = ctx.get("ti") or ctx.get("task_instance")
    dag = ctx.get("dag")
    logical = ctx.get("logical_date")
    return {
        "dag_id": getattr(ti, "dag_id", None) or getattr(dag, "dag_id", None),
        "task_id": getattr(ti, "task_id", None) or "unknown",
        "run_id": ctx.get("run_id") or getattr(ti, "run_id", None) or "unknown",
        "try_number": getattr(ti, "try_number", None),
        "max_tries": getattr(ti, "max_tries", None),
        "logical_date": logical.isoformat() if hasattr(logical, "isoformat") else None,
    }


def _cli_context() -> dict[str, Any]:
    """``cli`` / ``<subcommand>`` / ``manual__<process start>`` for the growthops CLI."""
    task = "cli"
    if Path(sys.argv[0]).name == "growthops" and len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        task = sys.argv[1]
    return {"dag_id": "cli", "task_id": task, "run_id": f"manual__{_CLI_STAMP}"}


def is_final_try(context: dict[str, Any] | None = None) -> bool:
    """True when Airflow will not retry the running task (or outside Airflow: nobody retries)."""
    ctx = context if context is not None else _current_context()
    if not ctx:
        return True
    ti = ctx.get("ti") or ctx.get("task_instance")
    if ti is None:
        return True
    server = getattr(ti, "_ti_context_from_server", None)  # what the task runner itself decides with
    should_retry = getattr(server, "should_retry", None)
    if isinstance(should_retry, bool):
        return not should_retry
    try_number, max_tries = getattr(ti, "try_number", None), getattr(ti, "max_tries", None)
    if try_number is None or max_tries is None:
        return True
    return int(try_number) > int(max_tries)
