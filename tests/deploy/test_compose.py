"""docker-compose.yml, validated and rendered by a real compose implementation (`config`).

No docker engine is needed: `docker compose config` (v2 plugin) or `docker-compose config`
(v1.29, Debian's docker-compose package, what CI installs) parses, validates and interpolates the
file. The tests read the rendered YAML.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml
from compose_env import COMPOSE_FILE, REPO_ROOT, compose_variables, init_command

ENV_EXAMPLE = REPO_ROOT / ".env.example"
SECRETS = {"AIRFLOW_JWT_SECRET": "test-jwt-secret", "AIRFLOW_API_SECRET_KEY": "test-api-secret"}
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "flower",
}
DEFAULT_SERVICES = {
    "postgres",
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
}
MOUNTED_FOLDERS = ("dags", "plugins", "dbt_project", "expectations", "config")


@cache
def compose_command() -> tuple[str, ...] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return ("docker", "compose")
    if shutil.which("docker-compose"):
        return ("docker-compose",)
    return None


requires_compose = pytest.mark.skipif(
    compose_command() is None,
    reason="no compose implementation: install Debian's docker-compose package "
    "(`apt-get install -y docker-compose`, as .ci/run does) or the docker compose plugin",
)


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def compose_config(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    """`compose config` with .env.example (+ overrides) as the only source of variables."""
    env_file = tmp_path / f"compose-{len(list(tmp_path.glob('compose-*.env')))}.env"
    values = {**env_example(), **overrides}
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    clean_env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [*compose_command(), "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env=clean_env,
        timeout=120,
    )


def rendered(tmp_path: Path, **overrides: str) -> dict:
    result = compose_config(tmp_path, **{**SECRETS, **overrides})
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def active_services(config: dict, profiles: set[str]) -> set[str]:
    """The compose-spec rule: a service without profiles always runs, else when one is enabled."""
    return {
        name
        for name, svc in config["services"].items()
        if not svc.get("profiles") or set(svc["profiles"]) & profiles
    }


def env_of(svc: dict) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def mounts_of(svc: dict) -> dict[str, tuple[str, bool]]:
    """container target -> (source, read_only), from v1 strings or v2 mappings."""
    out = {}
    for vol in svc.get("volumes", []):
        if isinstance(vol, str):
            parts = vol.split(":")
            out[parts[1]] = (parts[0], len(parts) > 2 and "ro" in parts[2].split(","))
        else:
            out[vol["target"]] = (vol["source"], bool(vol.get("read_only")))
    return out


def depends_on(svc: dict) -> dict[str, str]:
    deps = svc.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


# ------------------------------------------------------------------------------------------


@requires_compose
def test_secrets_are_required_and_named(tmp_path):
    result = compose_config(tmp_path)  # .env.example as shipped: the two secrets are empty
    assert result.returncode != 0
    assert "AIRFLOW_JWT_SECRET" in result.stderr or "AIRFLOW_API_SECRET_KEY" in result.stderr
    only_jwt = compose_config(tmp_path, AIRFLOW_JWT_SECRET="x")
    assert only_jwt.returncode != 0 and "AIRFLOW_API_SECRET_KEY" in only_jwt.stderr


@requires_compose
def test_services_and_profiles(tmp_path):
    config = rendered(tmp_path)
    assert set(config["services"]) == DEFAULT_SERVICES | {"redis", "airflow-worker", "flower"}
    assert active_services(config, set()) == DEFAULT_SERVICES
    assert active_services(config, {"celery"}) == DEFAULT_SERVICES | {"redis", "airflow-worker"}
    assert active_services(config, {"celery", "flower"}) == DEFAULT_SERVICES | {
        "redis",
        "airflow-worker",
        "flower",
    }
    # Whatever the profiles, every dependency of a running service runs too.
    for profiles in (set(), {"celery"}, {"celery", "flower"}):
        active = active_services(config, profiles)
        for name in active:
            assert set(depends_on(config["services"][name])) <= active, (profiles, name)


@requires_compose
def test_every_service_has_a_healthcheck(tmp_path):
    config = rendered(tmp_path)
    for name, svc in config["services"].items():
        check = svc.get("healthcheck")
        assert check and not check.get("disable"), name
        test = check["test"]
        assert isinstance(test, list) and test[0] in {"CMD", "CMD-SHELL"} and len(test) > 1, name
    services = config["services"]
    assert services["postgres"]["healthcheck"]["test"][1] == "pg_isready"
    assert services["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]
    assert "http://localhost:8080/api/v2/" in " ".join(services["airflow-apiserver"]["healthcheck"]["test"])
    assert "http://localhost:8974/health" in services["airflow-scheduler"]["healthcheck"]["test"]
    assert env_of(services["airflow-scheduler"])["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "DagProcessorJob" in services["airflow-dag-processor"]["healthcheck"]["test"][1]
    assert "TriggererJob" in services["airflow-triggerer"]["healthcheck"]["test"][1]
    assert "inspect ping" in services["airflow-worker"]["healthcheck"]["test"][1]


@requires_compose
def test_init_gates_every_airflow_service(tmp_path):
    config = rendered(tmp_path)
    services = config["services"]
    assert {n for n, s in services.items() if s.get("image") == services["airflow-init"]["image"]} == (
        AIRFLOW_SERVICES
    )
    for name in AIRFLOW_SERVICES:
        deps = depends_on(services[name])
        assert deps.get("postgres") == "service_healthy", name
        if name != "airflow-init":
            assert deps.get("airflow-init") == "service_completed_successfully", name
            assert services[name].get("restart") == "always", name
    for name in ("airflow-worker", "flower"):
        assert depends_on(services[name])["redis"] == "service_healthy"
    init = services["airflow-init"]
    assert init.get("restart", "no") == "no"  # one-shot
    assert init["user"] == "0:0"  # to hand the bind mounts to AIRFLOW_UID
    script = " ".join(init_command())
    for step in (
        "airflow db migrate",
        "python -m growthops.orchestration.airflow_setup",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
        "dbt parse",
        'chown -R "${AIRFLOW_UID}:0"',
    ):
        assert step in script, step


@requires_compose
def test_init_command_is_evaluated_in_the_container(tmp_path):
    """Compose must not interpolate the init script: every `$` in it is escaped as `$$`."""
    raw = COMPOSE_FILE.read_text()
    init_block = raw[
        raw.index("  airflow-init:") : raw.index("\n    environment:", raw.index("  airflow-init:"))
    ]
    assert compose_variables(init_block) == set()
    config = rendered(tmp_path, AIRFLOW_UID="1234", GROWTHOPS_DATA_PATH="/srv/growthops")
    command = config["services"]["airflow-init"]["command"]
    as_rendered = [arg.replace("$$", "$") for arg in ([command] if isinstance(command, str) else command)]
    entrypoint = config["services"]["airflow-init"]["entrypoint"]
    entrypoint = [entrypoint] if isinstance(entrypoint, str) else entrypoint
    assert [*entrypoint, *as_rendered] == init_command()
    assert env_of(config["services"]["airflow-init"])["AIRFLOW_UID"] == "1234"


@requires_compose
def test_executor_local_by_default_and_celery_on_request(tmp_path):
    local = rendered(tmp_path)
    celery = rendered(tmp_path, AIRFLOW_EXECUTOR="CeleryExecutor", COMPOSE_PROFILES="celery")
    for name in AIRFLOW_SERVICES:
        assert env_of(local["services"][name])["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor", name
        env = env_of(celery["services"][name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:@redis:6379/0"
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+postgresql://airflow:airflow@postgres/airflow"
    assert celery["services"]["airflow-worker"]["command"] in ("celery worker", ["celery", "worker"])


@requires_compose
def test_metadata_database_and_shared_secrets(tmp_path):
    config = rendered(tmp_path, POSTGRES_USER="growth", POSTGRES_PASSWORD="s3cret", POSTGRES_DB="meta")
    services = config["services"]
    pg_env = env_of(services["postgres"])
    assert (pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"], pg_env["POSTGRES_DB"]) == (
        "growth",
        "s3cret",
        "meta",
    )
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["postgres"]["healthcheck"]["test"][1:] == ["pg_isready", "-U", "growth", "-d", "meta"]
    for name in AIRFLOW_SERVICES:
        env = env_of(services[name])
        assert (
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg2://growth:s3cret@postgres/meta"
        )
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == SECRETS["AIRFLOW_JWT_SECRET"], name
        assert env["AIRFLOW__API__SECRET_KEY"] == SECRETS["AIRFLOW_API_SECRET_KEY"], name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
        assert env["GROWTHOPS_DATA_DIR"] == "/opt/growthops/data"
    assert "postgres" not in {p for svc in services.values() for p in map(str, svc.get("ports", []))}


@requires_compose
def test_volumes_and_user(tmp_path):
    data = tmp_path / "shared-data"
    config = rendered(tmp_path, AIRFLOW_UID="1234", GROWTHOPS_DATA_PATH=str(data))
    for name in AIRFLOW_SERVICES:
        svc = config["services"][name]
        mounts = mounts_of(svc)
        for folder in MOUNTED_FOLDERS:
            assert mounts[f"/opt/growthops/{folder}"] == (str(REPO_ROOT / folder), False), (name, folder)
        env = env_of(svc)
        assert mounts[env["GROWTHOPS_DATA_DIR"]] == (str(data), False), name
        assert env["GROWTHOPS_DBT_PROJECT_DIR"] == "/opt/growthops/dbt_project"
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/growthops/dags"
        assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == "/opt/growthops/plugins"
        assert mounts["/opt/airflow/logs"] == (str(REPO_ROOT / "logs"), False)
        passwords = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
        assert mounts[str(Path(passwords).parent)][0] == "airflow-auth"
        if name != "airflow-init":
            assert svc["user"] == "1234:0", name
        assert svc["build"]["context"] == str(REPO_ROOT)
    assert set(config["volumes"]) == {"postgres-db-volume", "airflow-auth"}


@requires_compose
def test_published_ports(tmp_path):
    config = rendered(tmp_path, AIRFLOW_API_PORT="18080", FLOWER_PORT="15555")

    def published(svc: dict) -> list[tuple[int, int]]:
        out = []
        for port in svc.get("ports", []):
            if isinstance(port, str):
                host, container = port.split(":")[-2:]
                out.append((int(host), int(container)))
            else:
                out.append((int(port["published"]), int(port["target"])))
        return out

    assert published(config["services"]["airflow-apiserver"]) == [(18080, 8080)]
    assert published(config["services"]["flower"]) == [(15555, 5555)]
    published_anywhere = {p for svc in config["services"].values() for p in published(svc)}
    assert published_anywhere == {(18080, 8080), (15555, 5555)}


def test_env_example_documents_every_compose_variable():
    used = compose_variables(COMPOSE_FILE.read_text())
    documented = set(env_example())
    assert used - documented == set(), "variables used by docker-compose.yml missing from .env.example"
    # COMPOSE_PROFILES is read by compose itself; anything else documented must be used.
    assert documented - used == {"COMPOSE_PROFILES"}
    for secret in SECRETS:
        assert env_example()[secret] == "", f"{secret} must ship empty in .env.example"
