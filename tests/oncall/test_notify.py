"""Notifications: off by default, sent through an Airflow connection by Airflow's own callback
runner, with the report's one-sentence summary and path; a notifier that fails leaves the task
failed with its report."""

from __future__ import annotations

import json
import logging
import socket
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from airflow.sdk.exceptions import AirflowFailException
from conftest import NEXT_DAY, ORDERS_HEADER, airflow_task, order_line, put, report_of

from growthops.config import REPO_ROOT
from growthops.orchestration.ingest_tasks import load
from growthops.orchestration.notify import FailureNotifier, failure_notifiers

DAG, TASK = "growthops_ingest_orders", "load_orders"
RUN = "scheduled__2025-01-04T00:00:00+00:00"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fail_the_load(settings) -> tuple[dict, AirflowFailException]:
    """A real failure of the load task (a renamed column), with its report; returns the callback context."""
    put(
        settings,
        "orders",
        "orders.csv",
        "\n".join([ORDERS_HEADER.replace("status", "state"), order_line(1)]) + "\n",
    )
    with airflow_task(DAG, TASK, RUN) as context, pytest.raises(AirflowFailException) as failure:
        load("orders", NEXT_DAY, settings=settings)
    return {**context, "exception": failure.value}, failure.value


class _TaskLog:
    """Stands in for the task runner's structlog logger; records what it would log."""

    def __init__(self):
        self.records: list[tuple[str, str, dict]] = []

    def __getattr__(self, level):
        return lambda event, *args, **kw: self.records.append((level, event, kw))


def _run_failure_callbacks(context: dict, task_log: _TaskLog | None = None) -> list:
    """What the task runner does after a task failed: every on_failure_callback of the task, from
    the DAG's default_args, through Airflow's own callback runner."""
    from airflow.sdk import DAG, task
    from airflow.sdk.execution_time.task_runner import _run_task_state_change_callbacks

    with DAG(
        DAG_ID := context["ti"].dag_id,
        schedule=None,
        start_date=datetime(2025, 1, 1, tzinfo=UTC),
        default_args={"on_failure_callback": failure_notifiers()},
    ) as dag:
        task(task_id=TASK)(lambda: None)()
    op = dag.get_task(TASK)
    assert op.dag_id == DAG_ID
    _run_task_state_change_callbacks(op, "on_failure_callback", context, task_log or _TaskLog())
    return list(op.on_failure_callback or [])


def test_off_by_default(monkeypatch, tmp_path):
    monkeypatch.delenv("GROWTHOPS_NOTIFY_CONN_ID", raising=False)
    assert failure_notifiers() == []
    assert failure_notifiers({"GROWTHOPS_NOTIFY_CONN_ID": ""}) == []
    [n] = failure_notifiers({"GROWTHOPS_NOTIFY_CONN_ID": "growthops_notify"})
    assert isinstance(n, FailureNotifier) and n.conn_id == "growthops_notify"
    config = tmp_path / "growthops.toml"
    text = (REPO_ROOT / "config" / "growthops.toml").read_text()
    config.write_text(text.replace('conn_id = ""', 'conn_id = "ops_hook"'))
    [n] = failure_notifiers({"GROWTHOPS_CONFIG": str(config)})
    assert n.conn_id == "ops_hook"


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append((self.path, json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_webhook_gets_the_summary_and_the_report_path(data, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hook.received.clear()
    try:
        monkeypatch.setenv("GROWTHOPS_NOTIFY_CONN_ID", "growthops_notify")
        monkeypatch.setenv(
            "AIRFLOW_CONN_GROWTHOPS_NOTIFY", f"http://127.0.0.1:{server.server_port}/hooks/oncall"
        )
        context, _ = _fail_the_load(data)
        [notifier] = _run_failure_callbacks(context)
    finally:
        server.shutdown()

    _, js = report_of(data, DAG, RUN, TASK)
    assert notifier.last_error is None
    [(path, payload)] = _Hook.received
    assert path == "/hooks/oncall"
    assert payload["summary"] == js["summary"] and payload["kind"] == "contract mismatch"
    assert payload["report_path"] == js["report_path"]
    assert (payload["dag_id"], payload["task_id"], payload["run_id"]) == (DAG, TASK, RUN)
    assert payload["text"].splitlines()[:3] == [
        f"FAILED: {js['summary']}",
        f"where: {DAG} / {TASK} / {RUN} (try 1)",
        f"report: {js['report_path']}",
    ]


@pytest.mark.parametrize("scheme", ["http", "smtp"])
def test_a_failing_notifier_leaves_the_task_failed_with_its_report(data, monkeypatch, caplog, scheme):
    monkeypatch.setenv("GROWTHOPS_NOTIFY_CONN_ID", "growthops_notify")
    uri = f"{scheme}://127.0.0.1:{_closed_port()}/hook" + (
        "?to=oncall%40example.org" if scheme == "smtp" else ""
    )
    monkeypatch.setenv("AIRFLOW_CONN_GROWTHOPS_NOTIFY", uri)
    context, exc = _fail_the_load(data)  # the task failed (AirflowFailException: no retry)
    md_before, js = report_of(data, DAG, RUN, TASK)

    task_log = _TaskLog()
    with caplog.at_level(logging.INFO):
        [notifier] = _run_failure_callbacks(context, task_log)  # must not raise

    assert "Connection refused" in notifier.last_error or "Errno 111" in notifier.last_error
    assert isinstance(exc, AirflowFailException)  # still the task's outcome: failed, not retried
    md_after, _ = report_of(data, DAG, RUN, TASK)
    assert md_after == md_before and js["kind"] == "contract mismatch"
    logged = caplog.text
    assert "could not send the failure notification through connection 'growthops_notify'" in logged
    assert js["report_path"] in logged  # the log still points at the report
    assert [r for r in task_log.records if r[0] in {"exception", "error"}] == []  # swallowed by the notifier


def test_a_task_without_a_report_is_announced_with_its_exception(data):
    from growthops.orchestration.notify import build_notification

    with airflow_task(DAG, "load_fx", RUN) as context:
        note = build_notification({**context, "exception": MemoryError("worker ran out of memory")})
    assert note.report_path is None and note.summary == "MemoryError: worker ran out of memory"
    assert "no failure report was written" in note.text
