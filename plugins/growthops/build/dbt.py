"""Run dbt in-process (``dbtRunner``) against the build warehouse, with readable results.

Every dbt call of growthops goes through :func:`invoke`: the Airflow tasks rendered from the
manifest, ``growthops backfill`` and ``growthops replay``. It sets the warehouse path and the
project vars from the growthops config, passes dbt's warnings and errors to the growthops log
(:func:`forward_dbt_event`; dbt's own stdout log is off), and turns the run results into one
line per node plus a structured list of failures, so that a failed model or test reads in one
screen.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from growthops.build import definitions
from growthops.config import REPO_ROOT, Settings
from growthops.logs import get_logger

log = get_logger(__name__)

DBT_PROJECT_DIR = Path(os.environ.get("GROWTHOPS_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project"))
MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
FAILED_STATUSES = {"error", "fail", "runtime error"}
# dbt's stdout logger formats and scrubs every event (about 20 per node, debug ones included)
# before --quiet drops all but errors (with the file log, ~8% of a small build's CPU). It is off for
# every growthops command; the warnings and errors reach the growthops log through
# forward_dbt_event instead, and the file log (logs/dbt.log) is off by the project's flags
# (dbt_project.yml; DBT_LOG_LEVEL_FILE=debug brings it back). DECISIONLOG 51.
LOG_ARGS = ["--log-level", "none", "--no-use-colors", "--no-send-anonymous-usage-stats"]
_FORWARDED_LEVELS = {"warn": logging.WARNING, "error": logging.ERROR}


@dataclass(frozen=True)
class NodeOutcome:
    unique_id: str
    resource_type: str
    name: str
    status: str
    message: str
    failures: int | None
    seconds: float

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


@dataclass
class DbtResult:
    command: list[str]
    success: bool
    outcomes: list[NodeOutcome] = field(default_factory=list)
    exception: str | None = None

    @property
    def failures(self) -> list[NodeOutcome]:
        return [o for o in self.outcomes if o.failed]

    def lines(self) -> list[str]:
        out = [
            f"{o.status.upper():<6} {o.resource_type:<9} {o.name} ({o.seconds:.1f}s)"
            + (f" - {o.message}" if o.failed and o.message else "")
            for o in self.outcomes
        ]
        if self.exception:
            out.append(f"ERROR  dbt could not run: {self.exception}")
        return out


class DbtFailure(RuntimeError):
    """A dbt model failed to build or a dbt test failed: a data/code error, never retried."""

    def __init__(self, result: DbtResult):
        self.result = result
        failed = result.failures
        if failed:
            kinds = {"test" if o.resource_type in {"test", "unit_test"} else "model" for o in failed}
            what = "dbt test failure" if kinds == {"test"} else "dbt model error"
            names = ", ".join(o.name for o in failed[:5])
            summary = f"{what}: {len(failed)} node(s) failed: {names}"
        else:
            what = "dbt error"
            summary = f"dbt error: {result.exception or 'dbt reported failure'}"
        self.kind = what
        super().__init__(summary)


def dbt_vars(settings: Settings) -> dict[str, object]:
    return {
        "reporting_currency": settings.reporting_currency,
        "reporting_timezone": settings.reporting_timezone,
        "reactivation_days": settings.reactivation_days,
    }


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment the dbt profile reads (``profiles.yml`` uses ``env_var``): the DuckDB build
    path, and the PostgreSQL connection of the ``postgres`` target (``[pg]`` of the config)."""
    return {
        "GROWTHOPS_WAREHOUSE_PATH": str(settings.warehouse_path),
        "GROWTHOPS_DATA_DIR": str(settings.data_dir),
        "GROWTHOPS_WAREHOUSE_TARGET": settings.warehouse_target,
        "GROWTHOPS_DUCKDB_MEMORY_LIMIT": settings.memory_limit,
        "GROWTHOPS_DUCKDB_TEMP_DIR": str(settings.duckdb_temp_dir),
        "GROWTHOPS_PG_HOST": settings.pg.host,
        "GROWTHOPS_PG_PORT": str(settings.pg.port),
        "GROWTHOPS_PG_USER": settings.pg.user,
        "GROWTHOPS_PG_PASSWORD": settings.pg.password,
        "GROWTHOPS_PG_DBNAME": settings.pg.dbname,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def base_args(settings: Settings) -> list[str]:
    target_dir = settings.data_dir / "dbt" / "target"
    log_dir = settings.data_dir / "dbt" / "logs"
    return [
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target",
        settings.warehouse_target,
        "--target-path",
        str(target_dir),
        "--log-path",
        str(log_dir),
        "--vars",
        json.dumps(dbt_vars(settings), sort_keys=True),
    ]


def code_version(manifest: dict[str, object], extra: object = None) -> str:
    """Hash of what the unit tests test: every node's and macro's code, the fixtures, the vars."""
    import hashlib

    parts = [
        (uid, n.get("checksum"), n.get("given"), n.get("expect"), n.get("macro_sql"))
        for section in ("nodes", "unit_tests", "macros")
        for uid, n in sorted(manifest.get(section, {}).items())  # type: ignore[union-attr]
    ]
    return hashlib.sha256(json.dumps([parts, extra], sort_keys=True, default=str).encode()).hexdigest()


def _unit_test_marker(settings: Settings) -> Path:
    return settings.data_dir / "dbt" / "unit_tests_passed"


def unit_test_plan(settings: Settings, manifest_path: Path = MANIFEST_PATH) -> tuple[str, list[str]]:
    """(code version, extra ``dbt build`` args): unit tests test code, not data, so a build skips
    them when they already passed on this code version (dbt code, macros, fixtures and vars,
    hashed from the pre-built manifest); the first build of a version and every build after a
    failed one runs them. Without a manifest they always run."""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "", []
    version = code_version(manifest, dbt_vars(settings))
    marker = _unit_test_marker(settings)
    passed = marker.exists() and marker.read_text(encoding="utf-8") == version
    return version, (["--exclude-resource-type", "unit_test"] if passed else [])


def record_unit_tests(settings: Settings, version: str, *, ran: bool, success: bool) -> None:
    """After a build: a failed build forgets the pass; a passing build that ran them records it."""
    marker = _unit_test_marker(settings)
    if not success:
        marker.unlink(missing_ok=True)
    elif ran and version:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(version, encoding="utf-8")


def forward_dbt_event(msg: object) -> None:
    """dbt event callback: a warning or error (and dbt's ``print``) becomes a growthops log line,
    secrets scrubbed as dbt's own loggers do; every other event is dropped unformatted."""
    info = msg.info  # type: ignore[attr-defined]
    level = logging.INFO if info.name == "PrintEvent" else _FORWARDED_LEVELS.get(info.level)
    if level is not None:
        from dbt_common.events.functions import env_scrubber

        log.log(level, "dbt: %s", env_scrubber(info.msg))


_MANIFESTS: dict[str, object] = {}


def _parsed_manifest(settings: Settings) -> object | None:
    """Parse the project once per process and reuse the manifest for every later dbt command.

    Several rendered dbt tasks can run in one process (``airflow dags test``, backfill + gate);
    dbt would otherwise re-check the whole project before each one. A failed parse returns None
    and lets the command itself report the problem. The parse writes no manifest.json (a 2.4 MB
    JSON dump dbt encodes in pure Python): the command run with the manifest writes it.
    """
    from dbt.cli.main import dbtRunner

    key = json.dumps([str(DBT_PROJECT_DIR), base_args(settings)])
    if key not in _MANIFESTS:
        res = dbtRunner(callbacks=[forward_dbt_event]).invoke(
            [*LOG_ARGS, "parse", "--no-write-json", *base_args(settings)]
        )
        if not res.success or res.result is None:
            return None
        _MANIFESTS[key] = res.result
    return _MANIFESTS[key]


def project_vars(settings: Settings) -> dict[str, object]:
    """The vars dbt sees: the project's defaults (``dbt_project.yml``), then the growthops config's."""
    import yaml

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return {**(project.get("vars") or {}), **dbt_vars(settings)}


def pending_full_rebuilds(settings: Settings, manifest_path: Path = MANIFEST_PATH) -> str | None:
    """What the next build rebuilds in full because a definition changed (DECISIONLOG 80), from the
    pre-built manifest (``growthops status``); None when nothing would be, or without a manifest."""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    plan = definitions.plan(settings, manifest, project_vars(settings))
    return plan.summary() if plan.changed else None


def _definition_plan(settings: Settings, command: list[str], manifest: object) -> definitions.Plan | None:
    """For a command that builds models: the incremental models to rebuild in full because their
    definition changed (DECISIONLOG 80), logged; None for other commands or without a manifest."""
    if command[:1] not in (["build"], ["run"]) or manifest is None:
        return None
    rebuild = definitions.plan(settings, manifest, project_vars(settings))
    if rebuild.changed and "--full-refresh" not in command:
        log.info("dbt: rebuilding in full %s", rebuild.summary())
    return rebuild


def invoke(settings: Settings, command: list[str], *, raise_on_failure: bool = True) -> DbtResult:
    """Run ``dbt <command>`` in-process; log one line per node; raise DbtFailure on failure."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(settings))
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    settings.duckdb_temp_dir.mkdir(parents=True, exist_ok=True)
    # Global flags go before the subcommand; the rest after it.
    args = [
        *LOG_ARGS,
        *command[:1],
        *base_args(settings),
        *command[1:],
    ]
    log.info("dbt %s", " ".join(command))
    manifest = _parsed_manifest(settings)
    rebuild = _definition_plan(settings, command, manifest)
    with definitions.rebuilding(rebuild) if rebuild is not None else contextlib.nullcontext():
        res = dbtRunner(manifest=manifest, callbacks=[forward_dbt_event]).invoke(args)
    result = DbtResult(command=command, success=bool(res.success))
    if res.exception is not None:
        result.exception = f"{type(res.exception).__name__}: {res.exception}"
    run_results = getattr(res.result, "results", None) or []
    for r in run_results:
        node = r.node
        result.outcomes.append(
            NodeOutcome(
                unique_id=node.unique_id,
                resource_type=str(node.resource_type),
                name=node.name,
                status=str(r.status),
                message=(r.message or "").strip(),
                failures=getattr(r, "failures", None),
                seconds=float(r.execution_time or 0.0),
            )
        )
    for line in result.lines():
        log.info("%s", line)
    if rebuild is not None:
        built = {o.name for o in result.outcomes if o.resource_type == "model" and o.status == "success"}
        definitions.record(settings, rebuild, built)
    if raise_on_failure and not result.success:
        raise DbtFailure(result)
    return result
