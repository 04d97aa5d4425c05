"""Run ``airflow dags test`` as a subprocess with its (very verbose) output kept in a log file.

Used by ``make demo`` and the end-to-end tests: a person sees one line per DAG run; the full
Airflow output is in the log file named on failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DagTestResult:
    dag_id: str
    logical_date: str | None
    ok: bool
    seconds: float
    log_path: Path

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])


def airflow_executable() -> str:
    local = Path(sys.executable).with_name("airflow")
    return str(local) if local.exists() else (shutil.which("airflow") or "airflow")


def dags_test(
    dag_id: str,
    logical_date: str | None = None,
    *,
    conf: dict | None = None,
    log_dir: Path,
    env: dict[str, str] | None = None,
    timeout: float = 1800,
) -> DagTestResult:
    cmd = [airflow_executable(), "dags", "test", dag_id]
    if logical_date:
        cmd.append(logical_date)
    if conf:
        cmd += ["--conf", json.dumps(conf)]
    log_dir.mkdir(parents=True, exist_ok=True)
    suffix = (logical_date or "now").replace(":", "").replace("+", "")
    log_path = log_dir / f"{dag_id}__{suffix}.log"
    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as fh:
        proc = subprocess.run(
            cmd,
            stdout=fh,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            timeout=timeout,
            check=False,
        )
    seconds = time.monotonic() - started
    text = log_path.read_text(encoding="utf-8", errors="replace")
    ok = proc.returncode == 0 and "state=failed" not in text.split("DagRun Finished")[-1][:400]
    return DagTestResult(dag_id, logical_date, ok, seconds, log_path)
