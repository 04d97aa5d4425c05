"""The Airflow UI side: report links, the pages behind them, and task log files of dag.test runs."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from growthops.config import load_settings


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    return load_settings()


def _write_report(settings, dag_id: str, run_id: str, task_id: str) -> Path:
    from growthops.reports import FailureReport, report_path

    path = report_path(settings, dag_id, run_id, task_id)  # where the failing task writes it
    path.parent.mkdir(parents=True)
    report = FailureReport(kind="contract mismatch", summary="orders header has no order_id", dag_id=dag_id)
    path.write_text(report.to_markdown(), encoding="utf-8")
    path.with_suffix(".json").write_text(json.dumps({"kind": report.kind, "summary": report.summary}))
    return path


def _key(dag_id="growthops_ingest_orders", run_id="manual__2025-01-03T00:00:00+00:00", task_id="load_orders"):
    return SimpleNamespace(dag_id=dag_id, run_id=run_id, task_id=task_id, try_number=1, map_index=-1)


def test_failure_report_link_only_where_a_report_was_written(settings):
    from growthops.orchestration.ui import FailureReportLink

    key = _key()
    assert FailureReportLink().get_link(None, ti_key=key) == ""
    _write_report(settings, key.dag_id, key.run_id, key.task_id)
    assert FailureReportLink().get_link(None, ti_key=key) == (
        "/growthops/runs/growthops_ingest_orders/manual__2025-01-03T00%3A00%3A00%2B00%3A00/load_orders"
    )
    assert FailureReportLink().get_link(None, ti_key=_key(task_id="wait_for_orders_export")) == ""


def test_growth_report_link_only_for_a_run_that_published(settings, monkeypatch):
    from growthops.orchestration.ui import GrowthReportLink

    key = _key(dag_id="growthops_transform", run_id="scheduled__2025-01-03", task_id="report")
    assert GrowthReportLink().get_link(None, ti_key=key) == ""
    page = settings.data_dir / "reports" / "scheduled__2025-01-03" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html></html>")
    assert (
        GrowthReportLink().get_link(None, ti_key=key) == "/growthops/reports/scheduled__2025-01-03/index.html"
    )
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "http://airflow.example:8080/")
    assert GrowthReportLink().get_link(None, ti_key=key) == (
        "http://airflow.example:8080/growthops/reports/scheduled__2025-01-03/index.html"
    )


def test_failure_page_escapes_the_report(settings):
    from growthops.orchestration.ui import render_failure_page

    page = render_failure_page("# FAILED: <script>x</script> in orders\n| a | b |\n", Path("/r/load.md"))
    assert "<script>x" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<title>FAILED: &lt;script&gt;x&lt;/script&gt; in orders</title>" in page


def test_plugin_registers_the_links_and_the_pages():
    from growthops.orchestration.ui import URL_PREFIX, airflow_plugin

    plugin = airflow_plugin()
    assert [link.name for link in plugin.global_operator_extra_links] == ["Failure report", "Growth report"]
    (app,) = plugin.fastapi_apps
    assert app["url_prefix"] == URL_PREFIX == "/growthops"
    routes = {route.path: route for route in app["app"].routes if hasattr(route, "dependant")}
    assert set(routes) == {"/runs/{dag_id}/{run_id}/{task_id}", "/reports/{folder}/{page}"}
    for route in routes.values():  # Airflow's own access check guards both pages
        checks = [d.call.__qualname__ for d in route.dependant.dependencies]
        assert checks == ["requires_access_dag.<locals>.inner"], checks


def test_task_log_path_follows_airflows_filename_template(tmp_path):
    from growthops.orchestration.task_logs import task_log_path

    template = (
        "dag_id={{ ti.dag_id }}/run_id={{ ti.run_id }}/task_id={{ ti.task_id }}/"
        "{% if ti.map_index >= 0 %}map_index={{ ti.map_index }}/{% endif %}"
        "attempt={{ try_number|default(ti.try_number) }}.log"
    )
    ti = SimpleNamespace(dag_id="d", run_id="manual__1", task_id="t", map_index=-1, try_number=2)
    assert (
        task_log_path(tmp_path, template, ti)
        == tmp_path / "dag_id=d/run_id=manual__1/task_id=t/attempt=2.log"
    )
    ti.map_index = 3
    assert task_log_path(tmp_path, template, ti).parent.name == "map_index=3"


def test_listener_writes_the_task_log_the_api_server_parses(tmp_path):
    from airflow.utils.log.file_task_handler import StructuredLogMessage

    from growthops.orchestration.task_logs import TaskLogFiles

    listener = TaskLogFiles(tmp_path, "{{ ti.dag_id }}/{{ ti.task_id }}/attempt={{ try_number }}.log")
    ti = SimpleNamespace(dag_id="d", run_id="r", task_id="load", map_index=-1, try_number=1)
    logging.getLogger("growthops.before").error("not in any task log")
    listener.on_task_instance_running(None, ti)
    logging.getLogger("growthops.loader").error("# FAILED: bad header\n(report written to /r/load.md)")
    listener.on_task_instance_failed(None, ti, RuntimeError("FAILED (contract mismatch)\nreport: /r/load.md"))
    logging.getLogger("growthops.after").error("not in the task log either")

    lines = (tmp_path / "d" / "load" / "attempt=1.log").read_text().splitlines()
    parsed = [StructuredLogMessage.model_validate_json(line) for line in lines]
    events = [m.event for m in parsed]
    assert len(events) == 3 and events[0].startswith("d.load try 1 started")
    assert events[1] == "# FAILED: bad header\n(report written to /r/load.md)"
    assert (
        events[2]
        == "Task failed with exception: RuntimeError: FAILED (contract mismatch)\nreport: /r/load.md"
    )
    assert [m.level for m in parsed] == ["info", "error", "error"]
    assert all(m.timestamp is not None for m in parsed)
    assert not any(h for h in logging.getLogger().handlers if type(h).__name__ == "_JsonLinesHandler")


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_every_failed_task_log_ends_with_the_oncall_summary(settings, monkeypatch):
    from growthops.orchestration.notify import failure_callbacks, log_oncall_summary
    from growthops.orchestration.policy import DEFAULT_ARGS

    assert DEFAULT_ARGS["on_failure_callback"][0] is log_oncall_summary
    assert failure_callbacks({"GROWTHOPS_NOTIFY_CONN_ID": ""}) == [log_oncall_summary]
    key = _key()
    ti = SimpleNamespace(
        dag_id=key.dag_id, task_id=key.task_id, run_id=key.run_id, try_number=1, log_url=None
    )
    context = {"ti": ti, "run_id": key.run_id, "exception": KeyError("order_id")}
    records = _Records()  # Airflow's logging config replaces root handlers (and pytest's caplog)
    monkeypatch.setattr(logging.getLogger("growthops.notify"), "handlers", [records])

    log_oncall_summary(context)  # died without a report: the exception, and no report
    assert records.messages[-1].splitlines()[:2] == ["on-call summary", "FAILED: KeyError: 'order_id'"]
    assert "no failure report was written" in records.messages[-1]

    path = _write_report(settings, key.dag_id, key.run_id, key.task_id)
    log_oncall_summary(context)
    lines = records.messages[-1].splitlines()
    assert lines[1] == "FAILED: orders header has no order_id"
    assert f"report: {path}" in lines and lines[-1].endswith("'Failure report' link opens this report")
