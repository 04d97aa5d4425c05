"""What the Airflow UI shows of growthops: two links on every task, and the pages they open.

Loaded by the Airflow plugin ``plugins/growthops_ui.py`` (scheduler, API server, workers).

- **Failure report** (a global operator extra link): on a task that wrote a one-screen on-call
  report (``<data>/runs/<dag_id>/<run_id>/<task_id>.md``), a link to that report; empty otherwise.
- **Growth report**: on the tasks of a run that published marts, a link to the static growth
  report of that publication (``<data>/reports/<run_id>/index.html``); empty otherwise.

Both links are computed by the API server when the task's page is opened (a global link needs no
XCom), so they also appear for runs made by ``airflow dags test`` / ``make demo``. The pages are
served by the API server itself under ``/growthops/`` (a browser does not follow ``file://``
links from an ``http://`` page) and take Airflow's own authentication: the failure report needs
read access to the DAG's task logs, the growth report read access to DAGs.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperatorLink

URL_PREFIX = "/growthops"
_PAGE = re.compile(r"^[A-Za-z0-9_-]+\.html$")


def _settings():
    from growthops.config import load_settings

    return load_settings()


def _base_url() -> str:
    """The API server's public base URL when configured (``[api] base_url``), else '' (relative)."""
    from airflow.configuration import conf

    return (conf.get("api", "base_url", fallback="") or "").rstrip("/")


def failure_report_url(dag_id: str, run_id: str, task_id: str, settings=None) -> str:
    """URL of the on-call report of that task in that run, '' when it wrote none."""
    from urllib.parse import quote

    from growthops.reports import read_report

    if read_report(settings or _settings(), dag_id, run_id, task_id) is None:
        return ""
    parts = "/".join(quote(p, safe="") for p in (dag_id, run_id, task_id))
    return f"{_base_url()}{URL_PREFIX}/runs/{parts}"


def growth_report_url(run_id: str, settings=None) -> str:
    """URL of the growth report built after run ``run_id`` published, '' when there is none."""
    from urllib.parse import quote

    from growthops.report.build import reports_dir
    from growthops.serve.versions import safe_run_id

    folder = safe_run_id(run_id)
    if not (reports_dir(settings or _settings()) / folder / "index.html").is_file():
        return ""
    return f"{_base_url()}{URL_PREFIX}/reports/{quote(folder, safe='')}/index.html"


class FailureReportLink(BaseOperatorLink):
    """The on-call report a failed task wrote (its summary, file, checks, commands)."""

    name = "Failure report"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        return failure_report_url(ti_key.dag_id, ti_key.run_id, ti_key.task_id)


class GrowthReportLink(BaseOperatorLink):
    """The growth report of the marts this run published."""

    name = "Growth report"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        return growth_report_url(ti_key.run_id)


def _contained(root: Path, path: Path) -> Path | None:
    """``path`` if it is a file inside ``root`` (no escape through ``..`` or links)."""
    try:
        resolved = path.resolve(strict=True)
        resolved.relative_to(root.resolve())
    except (OSError, ValueError):
        return None
    return resolved if resolved.is_file() else None


def render_failure_page(markdown: str, path: Path) -> str:
    """The report as a plain HTML page: its text, exactly as the task log shows it."""
    first = markdown.splitlines()[0].lstrip("# ") if markdown else "failure report"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(first)}</title>"
        "<style>body{font:14px/1.45 ui-monospace,monospace;margin:2em;max-width:120ch}"
        "pre{white-space:pre-wrap}</style></head><body>"
        f"<pre id='report'>{html.escape(markdown)}</pre>"
        f"<p>file: <code>{html.escape(str(path))}</code></p></body></html>"
    )


def create_app():
    """The FastAPI app the API server mounts at ``/growthops``."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag
    from fastapi import Depends, FastAPI, HTTPException
    from fastapi.responses import FileResponse, HTMLResponse

    app = FastAPI(title="growthops reports", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get(
        "/runs/{dag_id}/{run_id}/{task_id}",
        response_class=HTMLResponse,
        dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.TASK_LOGS))],
    )
    def failure_report(dag_id: str, run_id: str, task_id: str) -> HTMLResponse:
        from growthops.reports import read_report

        settings = _settings()
        report = read_report(settings, dag_id, run_id, task_id)
        path = _contained(settings.runs_dir, Path(report["report_path"])) if report else None
        if path is None:
            raise HTTPException(404, f"no failure report for {dag_id} / {run_id} / {task_id}")
        return HTMLResponse(render_failure_page(path.read_text(encoding="utf-8"), path))

    @app.get("/reports/{folder}/{page}", dependencies=[Depends(requires_access_dag("GET"))])
    def growth_report(folder: str, page: str) -> FileResponse:
        from growthops.report.build import reports_dir

        root = reports_dir(_settings())
        path = _contained(root, root / folder / page) if _PAGE.match(page) else None
        if path is None:
            raise HTTPException(404, f"no report page {folder}/{page}")
        return FileResponse(path, media_type="text/html")

    return app


def airflow_plugin():
    """The AirflowPlugin subclass (built lazily: importing this module stays cheap)."""
    from airflow.plugins_manager import AirflowPlugin

    class GrowthopsUIPlugin(AirflowPlugin):
        name = "growthops_ui"
        global_operator_extra_links = [FailureReportLink(), GrowthReportLink()]
        fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "growthops reports"}]

    return GrowthopsUIPlugin
