"""Task log files for runs made with ``dag.test()`` (``make demo``, ``airflow dags test``).

Under the scheduler, each task's supervisor writes ``<base_log_folder>/dag_id=…/run_id=…/
task_id=…/attempt=N.log`` and the Airflow UI reads it from there. ``dag.test()`` runs tasks in
the calling process without a supervisor, so nothing is written and the UI shows empty logs.

:class:`TaskLogFiles` is an Airflow listener that fills that gap: while a task runs it copies
every log record of the process into that task's file, in the JSON-lines form the API server
parses (``timestamp``, ``level``, ``event``, ``logger``), and ends the file with the task's
outcome (for a failure: the exception text, i.e. the report's summary, path and commands).
Register it only where no supervisor writes the files (see :mod:`growthops.orchestration.dags_test`).
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from airflow.listeners import hookimpl


@cache
def _compiled(template: str) -> Any:
    """The Jinja template, compiled once per process (not once per task: ~15 ms each under load)."""
    import jinja2

    return jinja2.Environment(autoescape=False).from_string(template)


def task_log_path(base: Path, template: str, ti: Any) -> Path:
    """Where Airflow's log reader looks for ``ti``'s log (``[logging] log_filename_template``)."""
    fields = SimpleNamespace(
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        task_id=ti.task_id,
        map_index=getattr(ti, "map_index", -1) if getattr(ti, "map_index", None) is not None else -1,
        try_number=ti.try_number,
    )
    return base / _compiled(template).render(ti=fields, try_number=ti.try_number)


def _record(level: str, event: str, logger: str, when: float | None = None) -> str:
    stamp = datetime.fromtimestamp(when, UTC) if when is not None else datetime.now(UTC)
    return json.dumps(
        {"timestamp": stamp.isoformat(), "level": level.lower(), "event": event, "logger": logger},
        default=str,
    )


class _JsonLinesHandler(logging.Handler):
    def __init__(self, path: Path):
        super().__init__(logging.INFO)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.stream = path.open("a", encoding="utf-8")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            event = record.getMessage()
            if record.exc_info:
                event += "\n" + logging.Formatter().formatException(record.exc_info)
            self.write(record.levelname, event, record.name, record.created)
        except Exception:  # a log line must never fail the task
            self.handleError(record)

    def write(self, level: str, event: str, logger: str, when: float | None = None) -> None:
        with self.lock or threading.Lock():
            self.stream.write(_record(level, event, logger, when) + "\n")
            self.stream.flush()

    def close(self) -> None:
        with self.lock or threading.Lock():
            self.stream.close()
        super().close()


class TaskLogFiles:
    """Listener: one JSON-lines log file per task try, where the Airflow UI reads task logs."""

    def __init__(self, base_folder: Path | None = None, template: str | None = None):
        from airflow.configuration import conf

        self.base = Path(base_folder or conf.get("logging", "base_log_folder"))
        self.template = template or conf.get("logging", "log_filename_template")
        self._handler: _JsonLinesHandler | None = None

    def _finish(self, level: str, event: str) -> None:
        handler, self._handler = self._handler, None
        if handler is None:
            return
        logging.getLogger().removeHandler(handler)
        handler.write(level, event, "growthops.task_logs")
        handler.close()

    @hookimpl
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        self._finish("warning", "log file closed: a new task started")
        path = task_log_path(self.base, self.template, task_instance)
        self._handler = _JsonLinesHandler(path)
        self._handler.write(
            "info",
            f"{task_instance.dag_id}.{task_instance.task_id} try {task_instance.try_number} "
            f"started (run {task_instance.run_id}, in-process dag.test)",
            "growthops.task_logs",
        )
        root = logging.getLogger()
        root.addHandler(self._handler)
        if root.getEffectiveLevel() > logging.INFO:
            root.setLevel(logging.INFO)

    @hookimpl
    def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
        self._finish("info", "Task instance in success state")

    @hookimpl
    def on_task_instance_failed(self, previous_state: Any, task_instance: Any, error: Any) -> None:
        what = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error or "")
        self._finish("error", f"Task failed with exception: {what}".rstrip(": "))

    @hookimpl
    def on_task_instance_skipped(self, previous_state: Any, task_instance: Any) -> None:
        self._finish("info", "Task instance skipped")


def register(base_folder: Path | None = None) -> TaskLogFiles:
    """Register :class:`TaskLogFiles` with the Task SDK's listener manager of this process."""
    from airflow.sdk.listener import get_listener_manager

    listener = TaskLogFiles(base_folder)
    get_listener_manager().add_listener(listener)
    return listener
