"""Run several DAG runs end to end (``dag.test()``, what ``airflow dags test`` does) in one child
process, with Airflow's (very verbose) output kept in a log file.

Used by ``make demo``: a person sees one line per DAG run as it finishes; the full Airflow output
is in the log file named on failure. Each task's own log also goes where the Airflow UI reads it
(``<base_log_folder>/dag_id=…/run_id=…/task_id=…/attempt=N.log``, written by
:class:`growthops.orchestration.task_logs.TaskLogFiles`): open a demo run in ``make airflow`` and
its task logs are there. One process means Airflow, Great Expectations and dbt are
imported once, not once per run (measured: ~35 s per separate `airflow dags test` here).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path


@dataclass(frozen=True)
class DagTestResult:
    dag_id: str
    logical_date: str | None
    ok: bool
    seconds: float
    log_path: Path


def run_in_process(
    runs: list[dict], *, dags_folder: Path, log_path: Path, progress=None
) -> list[DagTestResult]:
    """Run several DAGs one after another with ``dag.test()`` in THIS process.

    Same as ``airflow dags test`` for each, but Airflow, Great Expectations and dbt are imported
    (and dbt parses the project) once instead of once per DAG run. Stops at the first failed run.
    ``runs``: ``[{"dag_id": ..., "logical_date": "YYYY-MM-DD", "conf": {...}}]``.
    """
    from datetime import datetime

    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.state import DagRunState

    bag = DagBag(dag_folder=str(dags_folder))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    results = []
    for spec in runs:
        dag_id, day = spec["dag_id"], spec.get("logical_date")
        started = time.monotonic()
        logical_date = datetime.fromisoformat(day).replace(tzinfo=UTC) if day else None
        try:
            dr = bag.dags[dag_id].test(logical_date=logical_date, run_conf=spec.get("conf"))
            ok = dr is not None and dr.state == DagRunState.SUCCESS
        except Exception as exc:  # a crash of the test harness is a failed run, with its log
            print(f"dag.test raised: {type(exc).__name__}: {exc}", flush=True)
            ok = False
        result = DagTestResult(dag_id, day, ok, time.monotonic() - started, log_path)
        results.append(result)
        if progress:
            progress(result)
        if not ok:
            break
    return results


def dags_test_many(
    runs: list[dict],
    *,
    log_path: Path,
    on_result=None,
    on_tick=None,
    tick_seconds: float = 15.0,
    env: dict[str, str] | None = None,
    timeout: float = 3600,
) -> list[dict]:
    """Run ``runs`` in one child process (output to ``log_path``); report each as it finishes.

    ``on_tick(elapsed_seconds, last_task)`` is called every ``tick_seconds`` while it runs, with the
    last task state change found in the Airflow log (or None): live progress for a person."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    read_fd, write_fd = os.pipe()
    cmd = [
        sys.executable,
        "-m",
        "growthops.orchestration.dags_test",
        json.dumps(runs),
        str(log_path),
        str(write_fd),
    ]
    results = []
    with log_path.open("w", encoding="utf-8") as fh:
        proc = subprocess.Popen(
            cmd, stdout=fh, stderr=subprocess.STDOUT, pass_fds=(write_fd,), env={**os.environ, **(env or {})}
        )
        os.close(write_fd)
        stop = threading.Event()
        if on_tick:
            threading.Thread(
                target=_ticker, args=(stop, log_path, on_tick, tick_seconds), daemon=True
            ).start()
        with os.fdopen(read_fd, encoding="utf-8") as pipe:
            for line in pipe:
                item = json.loads(line)
                results.append(item)
                if on_result:
                    on_result(item)
        proc.wait(timeout=timeout)
        stop.set()
    if proc.returncode != 0 and (not results or all(r["ok"] for r in results)):
        results.append({"dag_id": "(runner)", "logical_date": None, "ok": False, "seconds": 0.0})
        if on_result:
            on_result(results[-1])
    return results


_TASK_STATE = re.compile(r"task_id=([\w.\-]+).*?\bstate=(\w+)|Marking task as (\w+)\.? .*?task_id=([\w.\-]+)")


def last_task_state(log_path: Path, tail_bytes: int = 64_000) -> str | None:
    """The last ``<task_id>: <state>`` the Airflow log mentions (None if none yet)."""
    try:
        with log_path.open("rb") as fh:
            fh.seek(max(0, log_path.stat().st_size - tail_bytes))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    found = None
    for m in _TASK_STATE.finditer(text):
        task_id, state = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        found = f"{task_id}: {state.lower()}"
    return found


def _ticker(stop: threading.Event, log_path: Path, on_tick, every: float) -> None:
    started = time.monotonic()
    while not stop.wait(every):
        on_tick(time.monotonic() - started, last_task_state(log_path))


def peak_rss_mb() -> float | None:
    """This process's peak RSS (MB) since it started its program: ``VmHWM`` of /proc/self/status
    (Linux; None elsewhere). Not ``ru_maxrss``: Linux carries the RSS a process had when it was
    forked into its child's ``ru_maxrss`` across ``exec``, so a child of a large process reports
    at least the parent's size."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)  # kB
    return None


def _main(argv: list[str]) -> int:
    runs, log_path, fd = json.loads(argv[0]), Path(argv[1]), int(argv[2])
    dags_folder = Path(
        os.environ.get("AIRFLOW__CORE__DAGS_FOLDER", Path(__file__).resolve().parents[3] / "dags")
    )
    from growthops.orchestration.task_logs import register

    register()  # no supervisor writes task log files under dag.test(): the listener does
    with os.fdopen(fd, "w", encoding="utf-8") as out:

        def progress(r: DagTestResult) -> None:
            item = {"dag_id": r.dag_id, "logical_date": r.logical_date, "ok": r.ok, "seconds": r.seconds}
            out.write(json.dumps({**item, "peak_rss_mb": peak_rss_mb()}) + "\n")
            out.flush()

        results = run_in_process(runs, dags_folder=dags_folder, log_path=log_path, progress=progress)
    return 0 if results and all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
