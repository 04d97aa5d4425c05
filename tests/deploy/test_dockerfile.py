"""The Dockerfile installs from the committed uv.lock with the same `uv sync --frozen` as CI.

No docker engine here: the Dockerfile's instructions are parsed, and its `uv sync` lines are
replayed with `--dry-run` against uv.lock (uv prints what the image would install).
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from compose_env import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"
COPIED_FOLDERS = ("plugins", "dags", "dbt_project", "expectations", "config")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, args = current.partition(" ")
        out.append((keyword.upper(), args.strip()))
        current = ""
    return out


def uv_sync_commands() -> list[list[str]]:
    commands = []
    for keyword, args in instructions():
        if keyword != "RUN":
            continue
        for part in re.split(r"&&|;", args):
            words = [w for w in shlex.split(part) if not w.startswith("--mount=")]
            if words[:2] == ["uv", "sync"]:
                commands.append(words)
    return commands


def makefile_install() -> list[str]:
    """The `uv sync` CI runs (make install), without the $(UV) prefix."""
    text = (REPO_ROOT / "Makefile").read_text()
    match = re.search(r"^\t\$\(UV\) (sync [^\n]+)$", text, re.M)
    assert match, "make install no longer runs `$(UV) sync ...`"
    return ["uv", *shlex.split(match.group(1))]


def extras(command: list[str]) -> set[str]:
    return {command[i + 1] for i, word in enumerate(command) if word == "--extra"}


def find_uv() -> str | None:
    return shutil.which("uv") or next(
        (str(p) for p in [Path.home() / ".local" / "bin" / "uv"] if p.exists()), None
    )


# ------------------------------------------------------------------------------------------


def test_base_image_matches_the_project_python():
    from packaging.specifiers import SpecifierSet

    froms = [args for keyword, args in instructions() if keyword == "FROM"]
    assert froms == ["python:3.11-slim-bookworm"]
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert "3.11.9" in SpecifierSet(requires)


def test_installs_from_the_lockfile_like_ci():
    syncs = uv_sync_commands()
    assert len(syncs) == 2, syncs  # dependencies layer, then the project
    ci = makefile_install()
    assert "--frozen" in ci
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    declared = set(project["project"]["optional-dependencies"])
    lock = (REPO_ROOT / "uv.lock").read_text()
    locked = set(re.findall(r'"([a-z0-9-]+)"', re.search(r"provides-extras = \[([^\]]*)\]", lock).group(1)))
    for command in syncs:
        assert "--frozen" in command and "--no-dev" in command, command
        assert extras(ci) <= extras(command), "the image must have every extra CI installs"
        assert extras(command) == {"postgres", "celery", "s3"}
        assert extras(command) <= declared and extras(command) <= locked
    assert "--no-install-project" in syncs[0] and "--no-install-project" not in syncs[1]
    assert [w for w in syncs[0] if w != "--no-install-project"] == syncs[1]


def test_every_install_byte_compiles_the_packages():
    """`make install` and the image install compiled packages: a process that imports Great
    Expectations, Airflow or dbt from uncompiled sources (PYTHONDONTWRITEBYTECODE, a read-only
    venv) compiles them again every time (GX import 16.6 s instead of 6.4 s here)."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert project["tool"]["uv"].get("compile-bytecode") is True
    assert re.search(r"^\s+UV_COMPILE_BYTECODE=1 \\$", (REPO_ROOT / "Dockerfile").read_text(), re.M)


def test_copies_lockfile_before_installing_and_code_before_the_project():
    steps = instructions()
    index_of_sync = [i for i, (k, a) in enumerate(steps) if k == "RUN" and "uv sync" in a]
    copies = {i: a.split() for i, (k, a) in enumerate(steps) if k == "COPY"}
    first_copy = min(i for i, args in copies.items() if "uv.lock" in args)
    assert {"pyproject.toml", "uv.lock", "README.md"} <= set(copies[first_copy])
    assert first_copy < index_of_sync[0]
    for folder in COPIED_FOLDERS:
        (where,) = [i for i, args in copies.items() if args[0] == folder]
        assert index_of_sync[0] < where < index_of_sync[1], folder
        assert copies[where][1] == f"./{folder}"
    env = " ".join(a for k, a in steps if k == "ENV")
    assert "UV_PROJECT_ENVIRONMENT=/opt/growthops/.venv" in env
    assert "PATH=/opt/growthops/.venv/bin:$PATH" in env
    assert "GROWTHOPS_DATA_DIR=/opt/growthops/data" in env


def test_runs_as_a_non_root_user_with_airflow_as_entrypoint():
    steps = instructions()
    users = [a for k, a in steps if k == "USER"]
    assert users and steps[-1][0] in {"CMD", "ENTRYPOINT"}
    last_user = users[-1]
    assert last_user.split(":")[0] not in {"0", "root"}
    assert last_user == "${AIRFLOW_UID}:0"
    assert "ARG AIRFLOW_UID=50000" in "\n".join(f"{k} {a}" for k, a in steps)
    (entrypoint,) = [a for k, a in steps if k == "ENTRYPOINT"]
    assert yaml.safe_load(entrypoint)[-1] == "airflow"
    # the USER switch comes after every RUN (nothing runs as root after it)
    last_run = max(i for i, (k, _) in enumerate(steps) if k == "RUN")
    assert last_run < max(i for i, (k, _) in enumerate(steps) if k == "USER")


def test_airflow_service_commands_are_airflow_subcommands(tmp_path):
    """The compose commands run as `airflow <command>` (the image's entrypoint)."""
    doc = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    commands = {
        name: svc["command"]
        for name, svc in doc["services"].items()
        if name.startswith("airflow-") and name != "airflow-init" and isinstance(svc.get("command"), str)
    }
    assert commands == {
        "airflow-apiserver": "api-server",
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer",
        "airflow-worker": "celery worker",
    }
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW_HOME": str(tmp_path)}
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from airflow.cli.cli_parser import get_parser;"
            "p = get_parser(); [p.parse_known_args(c.split()) for c in sys.argv[1:]]; print('ok')",
            *[c for c in commands.values() if not c.startswith("celery")],
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0 and probe.stdout.strip().endswith("ok"), probe.stderr[-3000:]


def test_dockerignore_keeps_secrets_and_data_out_but_not_the_copied_code():
    patterns = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    excluded = [p for p in patterns if not p.startswith("!")]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/") for p in excluded)

    for path in (".env", ".venv", ".git", "data", ".airflow", "dbt_project/target", "logs"):
        assert ignored(path), path
    for path in ("pyproject.toml", "uv.lock", "README.md", *COPIED_FOLDERS):
        assert not ignored(path), path


def test_image_dependency_set_from_uv_lock(tmp_path):
    """Replay the Dockerfile's `uv sync` with --dry-run: what the image would install."""
    uv = find_uv()
    if uv is None:
        pytest.skip("uv is not installed (make install installs it)")
    final_sync = uv_sync_commands()[-1]
    result = subprocess.run(
        [uv, *final_sync[1:], "--dry-run"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(tmp_path / "image-venv"), "UV_OFFLINE": "1"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # "+ name==version", or "+ name @ file://..." for the project itself (editable or not, by uv version)
    plan = dict(re.findall(r"^ \+ ([A-Za-z0-9_.-]+)(?:==| @ )(\S+)", result.stderr + result.stdout, re.M))
    assert plan["apache-airflow"].startswith("3.3.")
    assert plan["dbt-core"].startswith("1.11.")
    assert plan["duckdb"].startswith("1.4.")
    for package in (
        "apache-airflow-providers-postgres",
        "psycopg2-binary",
        "dbt-postgres",
        "apache-airflow-providers-celery",
        "celery",
        "redis",
        "flower",
        "great-expectations",
        "growthops",
    ):
        assert package in plan, package
    for dev_only in ("pytest", "ruff", "sqlfluff"):
        assert dev_only not in plan, dev_only
    assert not (tmp_path / "image-venv").exists()  # a dry run installs nothing
