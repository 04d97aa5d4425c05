"""The Airflow UI of a small demo leads on-call to the failure report.

One ingest DAG run through ``dag.test()`` (what ``make demo`` runs) on a small generated world
whose orders export has a broken header (``ingest_dag_runs`` of the root conftest, shared with the
DAG tests): ``load_orders`` quarantines it, writes its report and fails. Then the real ``airflow api-server`` (SQLite, AIRFLOW_HOME in tmp, loopback) serves it.

What is asserted:

- the task log the UI shows (``GET /api/v2/.../taskInstances/load_orders/logs/1``, the call the
  log page makes; the React page virtualises long logs, so the full text is checked there) holds
  the full report, the exception with its summary, path and commands, and ends with the on-call
  summary of the failure callback;
- the task's extra links (``GET …/links``, what the task page renders as buttons) have a
  ``Failure report`` URL; that URL, opened in headless Chromium with the UI's login cookie,
  shows the report (summary, file, sha256);
- the task's page, rendered by Chromium from the React UI: its Logs tab shows the report summary
  and the on-call summary, its Details tab has the ``Failure report`` button with that URL; both
  are screenshotted under the test's tmp folder (``screenshots/``).

(Access control of the ``/growthops`` pages is Airflow's; this API server runs in all-admins mode,
so ``tests/orchestration/test_ui.py`` checks that the routes carry Airflow's access dependency.)
"""

from __future__ import annotations

import html
import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from report_helpers import CHROMIUM, chromium
from world import BAD_ORDERS_DAY, BIN, REPO, airflow_subprocess_env

DAG_ID, TASK_ID = "growthops_ingest_orders", "load_orders"
DAY = BAD_ORDERS_DAY  # the orders day of ``ingest_dag_runs`` whose export lacks a column

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(home: Path, data: Path) -> dict[str, str]:
    return airflow_subprocess_env(
        home,
        data,
        AIRFLOW__CORE__AUTH_MANAGER="airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
        AIRFLOW__API_AUTH__JWT_SECRET="growthops-browser-test-" + "x" * 64,
        GROWTHOPS_INGEST_SETTLE_SECONDS="0",
    )


@pytest.fixture(scope="module")
def failed_demo(airflow_env, ingest_dag_data, ingest_dag_runs):
    """The failed ``load_orders`` run of ``ingest_dag_runs`` (dag.test(), as ``make demo`` runs
    it): its orders export lacks a required column; its report and task log written."""
    data = ingest_dag_data[0]
    results = [(r["dag_id"], r["logical_date"], r["ok"]) for r in ingest_dag_runs["results"]]
    assert results[-1] == (DAG_ID, DAY.isoformat(), False), ingest_dag_runs["log"][-3000:]
    reports = list((data / "runs" / DAG_ID).glob(f"*/{TASK_ID}.json"))
    assert len(reports) == 1, ingest_dag_runs["log"][-3000:]
    report = json.loads(reports[0].read_text())
    home = airflow_env.home
    return {"env": _env(home, data), "home": home, "data": data, "report": report, "run_id": report["run_id"]}


@pytest.fixture(scope="module")
def api_server(failed_demo):
    port = _free_port()
    out = (failed_demo["home"] / "api-server.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "airflow"), "api-server", "-H", "127.0.0.1", "-p", str(port), "-w", "1"],
        env=failed_demo["env"],
        cwd=REPO,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):  # up to 2 minutes on a busy 2-core machine
            if proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("api-server did not answer within 2 minutes")
        assert proc.poll() is None, (failed_demo["home"] / "api-server.log").read_text()[-3000:]
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        out.close()


def _get(url: str, token: str) -> tuple[int, str]:
    req = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.status, resp.read().decode("utf-8")


def _token(base: str) -> str:
    with urllib.request.urlopen(f"{base}/auth/token", timeout=30) as resp:  # all-admins mode
        return json.loads(resp.read())["access_token"]


def _chromium(tmp_path: Path, url: str, *args: str) -> str:
    return chromium(tmp_path / "chromium-profile", url, *args, window="1600,2400", budget_ms=30000)


def _login(base: str, path: str) -> str:
    """The UI's all-admins login: sets the session cookie, then redirects to ``path``."""
    return f"{base}/auth/token/login?next={quote(path, safe='')}"


def test_failed_task_log_and_link_lead_to_the_report(failed_demo, api_server, tmp_path):
    report, run_id = failed_demo["report"], failed_demo["run_id"]
    assert report["kind"] == "contract mismatch" and report["source"] == "orders"
    token = _token(api_server)
    ti = f"{api_server}/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances/{TASK_ID}"

    status, body = _get(f"{ti}/logs/1", token)
    assert status == 200
    events = "\n".join(str(line.get("event", "")) for line in json.loads(body)["content"])
    assert f"# FAILED: {report['summary']}" in events  # the one-screen report, logged by the task
    assert f"report: {report['report_path']}" in events  # the exception's last words: summary + path
    assert f"FAILED ({report['kind']}): {report['summary']}" in events
    assert report["commands"][0] in events
    summary = events[events.index("on-call summary") :]  # the failure callback: the log's last words
    assert f"FAILED: {report['summary']}" in summary and f"report: {report['report_path']}" in summary

    status, body = _get(f"{ti}/links", token)
    links = json.loads(body)["extra_links"]
    assert set(links) == {"Failure report", "Growth report"}
    assert links["Growth report"] is None  # nothing was published by this run
    assert links["Failure report"].endswith(f"/growthops/runs/{DAG_ID}/{quote(run_id, safe='')}/{TASK_ID}")

    shots = tmp_path / "screenshots"
    shots.mkdir()
    link = links["Failure report"]
    page = _chromium(tmp_path, _login(api_server, link), "--dump-dom")
    text = re.sub(r"<[^>]+>", "", page).replace("&amp;", "&")
    assert f"# FAILED: {report['summary']}"[:120] in text
    assert report["sha256"] in text and report["source_file"] in text
    _chromium(tmp_path, _login(api_server, link), f"--screenshot={shots / 'failure-report.png'}")
    assert (shots / "failure-report.png").stat().st_size > 5_000

    task_page = f"/dags/{DAG_ID}/runs/{quote(run_id, safe='')}/tasks/{TASK_ID}"
    dom = html.unescape(_chromium(tmp_path, _login(api_server, task_page), "--dump-dom"))  # the Logs tab
    assert "on-call summary" in dom and f"FAILED: {report['summary']}" in dom, dom[-3000:]
    _chromium(tmp_path, _login(api_server, task_page), f"--screenshot={shots / 'task-log.png'}")
    assert (shots / "task-log.png").stat().st_size > 10_000

    details = html.unescape(_chromium(tmp_path, _login(api_server, f"{task_page}/details"), "--dump-dom"))
    anchor = re.search(r'<a\b[^>]*\bhref="([^"]+)"[^>]*>\s*Failure report\s*</a>', details)
    assert anchor and anchor.group(1) == link, details[-3000:]  # the button the Details tab shows
    _chromium(
        tmp_path, _login(api_server, f"{task_page}/details"), f"--screenshot={shots / 'task-details.png'}"
    )
    assert (shots / "task-details.png").stat().st_size > 10_000


def test_report_pages_stay_inside_the_data_folders(api_server):
    with pytest.raises(urllib.error.HTTPError) as err:
        _get(f"{api_server}/growthops/reports/..%2F..%2Fetc/passwd", _token(api_server))
    assert err.value.code == 404
