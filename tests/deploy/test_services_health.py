"""The long-running compose services, started here on the initialised PostgreSQL metadata DB with
the compose environment, pass their own compose healthchecks; the admin user logs in.

Slow (four Airflow processes on two cores): `make test-slow` / `pytest -m slow tests/deploy`.
Differences from the containers, all forced by sharing one machine: free ports instead of 8080
and 8974 (the healthcheck URLs are rewritten to match), one api-server worker, HOSTNAME exported.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest
from compose_env import REPO_ROOT, load_compose
from pg_server import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
HEALTHY_WITHIN = 240


def _airflow_hostname() -> str:
    """What Airflow records as a job's hostname (airflow.utils.net.getfqdn); in a container it is
    the container's HOSTNAME, which the compose healthchecks pass to `airflow jobs check`."""
    name = socket.gethostname()
    try:
        addrs = socket.getaddrinfo(name, None, 0, socket.SOCK_DGRAM, 0, socket.AI_CANONNAME)
    except OSError:
        return name
    return next((addr[3] for addr in addrs if addr[3]), name)


def _healthcheck_argv(test: list[str]) -> list[str]:
    kind, *rest = test
    return ["/bin/sh", "-c", rest[0].replace("$$", "$")] if kind == "CMD-SHELL" else rest


def test_services_pass_their_compose_healthchecks(airflow_on_postgres, tmp_path):
    af = airflow_on_postgres
    doc = load_compose()
    api_port, health_port = free_port(), free_port()
    env = {
        **af.env,
        "HOSTNAME": _airflow_hostname(),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{api_port}/execution/",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(health_port),
    }
    checks = {}
    procs: dict[str, subprocess.Popen] = {}
    try:
        for name in SERVICES:
            svc = doc["services"][name]
            argv = ["airflow", *svc["command"].split()]
            if name == "airflow-apiserver":
                argv += ["--port", str(api_port)]
            test = [
                part.replace("localhost:8080", f"localhost:{api_port}").replace(
                    "localhost:8974", f"localhost:{health_port}"
                )
                for part in svc["healthcheck"]["test"]
            ]
            checks[name] = _healthcheck_argv(test)
            log = (tmp_path / f"{name}.log").open("w")
            procs[name] = subprocess.Popen(
                argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT, start_new_session=True
            )
        healthy: dict[str, float] = {}
        started = time.monotonic()
        while len(healthy) < len(SERVICES) and time.monotonic() - started < HEALTHY_WITHIN:
            for name in SERVICES:
                if name in healthy:
                    continue
                assert procs[name].poll() is None, (tmp_path / f"{name}.log").read_text()[-3000:]
                result = subprocess.run(checks[name], env=env, capture_output=True, timeout=60, check=False)
                if result.returncode == 0:
                    healthy[name] = round(time.monotonic() - started, 1)
            time.sleep(2)
        assert set(healthy) == set(SERVICES), {
            n: (tmp_path / f"{n}.log").read_text()[-2000:] for n in SERVICES if n not in healthy
        }
        print("healthy after (s):", healthy)

        # The admin user of the init logs in through the simple auth manager, and the token it
        # gets is accepted by the public API (JWT secret from the compose environment).
        login = urllib.request.Request(
            f"http://localhost:{api_port}/auth/token",
            data=json.dumps({"username": af.admin_user, "password": af.admin_password}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(login, timeout=30) as response:
            token = json.loads(response.read())["access_token"]
        pools = urllib.request.Request(
            f"http://localhost:{api_port}/api/v2/pools/growthops_duckdb",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(pools, timeout=30) as response:
            assert json.loads(response.read())["slots"] == 1
        wrong = urllib.request.Request(
            f"http://localhost:{api_port}/auth/token",
            data=json.dumps({"username": af.admin_user, "password": "not-the-password"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(wrong, timeout=30)
        assert refused.value.code == 401
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
