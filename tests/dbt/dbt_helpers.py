"""Run the growthops dbt project in-process against a test warehouse."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from growthops.config import REPO_ROOT

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


@dataclass
class DbtRun:
    args: list[str]
    success: bool
    statuses: dict[str, str] = field(default_factory=dict)  # node name -> status
    messages: dict[str, str] = field(default_factory=dict)
    compiled: dict[str, str] = field(default_factory=dict)  # node name -> compiled SQL (dbt compile)
    exception: str | None = None

    def failed(self) -> dict[str, str]:
        return {n: s for n, s in self.statuses.items() if s in {"error", "fail", "runtime error"}}


def run_dbt(
    warehouse: Path,
    args: list[str],
    *,
    work_dir: Path,
    vars: dict | None = None,
) -> DbtRun:
    """``dbt <args>`` with the project's profiles, writing target/logs under ``work_dir``."""
    from dbt.cli.main import dbtRunner

    os.environ["GROWTHOPS_WAREHOUSE_PATH"] = str(warehouse)
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "False"
    words = 2 if args[0] in {"docs", "source"} else 1  # `dbt docs generate`, `dbt source freshness`
    full = [
        "--quiet",
        "--no-use-colors",
        *args[:words],
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target",
        "duckdb",
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
        *(["--vars", json.dumps(vars, sort_keys=True)] if vars else []),
        *args[words:],
    ]
    try:
        res = dbtRunner().invoke(full)
    finally:
        release_duckdb()
    run = DbtRun(args=args, success=bool(res.success))
    if res.exception is not None:
        run.exception = f"{type(res.exception).__name__}: {res.exception}"
    for r in getattr(res.result, "results", None) or []:
        run.statuses[r.node.name] = str(r.status)
        run.messages[r.node.name] = (r.message or "").strip()
        if getattr(r.node, "compiled_code", None):
            run.compiled[r.node.name] = r.node.compiled_code
    return run


@contextlib.contextmanager
def put_back(warehouse: Path) -> Iterator[None]:
    """Put the warehouse file back as it is now when the block ends.

    A block can run dbt on the warehouse in place, with the work dir of its earlier runs, and read
    the result: dbt's partial parse is keyed on the warehouse path, so a copy elsewhere would
    cost a full parse of the project. The other tests then see the warehouse unchanged.
    """
    saved = warehouse.with_name(f"{warehouse.name}.saved")
    shutil.copy2(warehouse, saved)
    try:
        yield
    finally:
        release_duckdb()
        warehouse.with_name(f"{warehouse.name}.wal").unlink(missing_ok=True)  # never replayed onto it
        saved.replace(warehouse)


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an in-process run.

    dbt-duckdb caches its environment (and the open database) at class level; left open, the
    file cannot be opened with another configuration (e.g. read-only) by this process, nor at
    all by another process.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()
        DuckDBConnectionManager._ENV = None


def explain(run: DbtRun) -> str:
    lines = [f"dbt {' '.join(run.args)} -> success={run.success} {run.exception or ''}"]
    for name, status in run.failed().items():
        lines.append(f"  {status}: {name}: {run.messages.get(name, '')[:500]}")
    return "\n".join(lines)
