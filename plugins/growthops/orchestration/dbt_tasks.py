"""Render the pre-built dbt manifest into Airflow tasks: one producer ``dbt build``, one task per node.

The design is astronomer-cosmos' ``ExecutionMode.WATCHER``, without cosmos on the parse path:

- ``build`` (the producer) runs ONE in-process ``dbt build`` with the profile's threads over the
  whole project (seeds, models, snapshot, data and unit tests), pays dbt's start-up once, and
  returns every node's outcome as its XCom. It fails only when dbt could not run at all (a locked
  warehouse is retried); a failed model or test is the failure of that model's task, not of the
  producer;
- ``<node>`` (one per seed, model and snapshot, wired in the manifest's dependency order) mirrors
  the producer's outcome for the node **and its tests**: it succeeds or fails (with the failure
  report: failing rows traced to export file and line) and logs one line per test. A failed
  node's descendants are ``upstream_failed``, and so are the mart gate and publication;
- a cleared (retried) node task does not mirror the same outcome twice: it runs
  ``dbt build --select <node>`` itself (the node and its tests), so that fixing a model and
  clearing its task (with downstream) rebuilds only that part of the graph.

Only the producer takes the one-slot DuckDB pool: the node tasks read XCom, so they do not queue
behind each other; a cleared node task that rebuilds and finds the warehouse busy gets DuckDB's
lock error, which is retried with backoff like every transient failure.

Which tests a node owns (matching cosmos' "after each" test behaviour): a test that references
several models belongs to the model built last among its parents when the others are its
ancestors, else to ``tests_across_models``; tests that read only sources belong to
``source_tests``. Each node task's ``doc_md`` is the model's description and columns from the
manifest. Reading the manifest is plain JSON (milliseconds at parse time); why not cosmos itself
and the measurements are in the README.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

BUILDABLE = {"model": "run", "seed": "seed", "snapshot": "snapshot"}
TEST_TYPES = {"test", "unit_test"}
SOURCE_TESTS = "source_tests"
CROSS_TESTS = "tests_across_models"
PRODUCER = "build"


@dataclass
class DbtNode:
    unique_id: str
    name: str
    resource_type: str
    parents: list[str]
    tests: list[str] = field(default_factory=list)  # test/unit_test node names
    test_ids: list[str] = field(default_factory=list)
    description: str = ""
    columns: list[tuple[str, str, str]] = field(default_factory=list)  # name, type, description

    def doc_md(self) -> str:
        lines = [
            f"**dbt {self.resource_type} `{self.name}`**",
            "",
            self.description.strip() or "(no description)",
        ]
        if self.columns:
            lines += ["", "| column | type | description |", "|---|---|---|"]
            lines += [
                f"| `{name}` | {dtype or ''} | {' '.join(desc.split()).replace('|', '/')} |"
                for name, dtype, desc in self.columns
            ]
        if self.tests:
            lines += ["", f"Tests ({len(self.tests)}): " + ", ".join(f"`{t}`" for t in self.tests)]
        return "\n".join(lines)


@dataclass
class DbtGraph:
    nodes: dict[str, DbtNode]  # buildable nodes by unique_id, in topological order
    source_tests: list[str]
    cross_tests: list[str]
    cross_parents: list[str]
    source_test_ids: list[str] = field(default_factory=list)
    cross_test_ids: list[str] = field(default_factory=list)

    def order(self) -> list[DbtNode]:
        return list(self.nodes.values())

    def owners(self) -> dict[str, str]:
        """Task name that owns each unique_id (a node owns itself and its tests)."""
        out = {uid: SOURCE_TESTS for uid in self.source_test_ids}
        out |= {uid: CROSS_TESTS for uid in self.cross_test_ids}
        for node in self.nodes.values():
            out[node.unique_id] = node.name
            out |= dict.fromkeys(node.test_ids, node.name)
        return out


def _toposort(parents: dict[str, list[str]]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()

    def visit(n: str, stack: tuple[str, ...] = ()) -> None:
        if n in seen:
            return
        if n in stack:
            raise ValueError(f"cycle in dbt graph at {n}")
        for p in sorted(parents[n]):
            visit(p, (*stack, n))
        seen.add(n)
        out.append(n)

    for n in sorted(parents):
        visit(n)
    return out


def _node(uid: str, raw: dict[str, Any], parents: list[str]) -> DbtNode:
    columns = [
        (name, col.get("data_type") or "", col.get("description") or "")
        for name, col in (raw.get("columns") or {}).items()
    ]
    return DbtNode(
        uid, raw["name"], raw["resource_type"], parents,
        description=raw.get("description") or "", columns=columns,
    )  # fmt: skip


def graph_from_manifest(manifest: dict[str, Any], project_name: str | None = None) -> DbtGraph:
    """Buildable nodes of the project with their dependencies and the tests attached to each."""
    project = project_name or manifest.get("metadata", {}).get("project_name")
    all_nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    buildable = {
        uid: n
        for uid, n in all_nodes.items()
        if n.get("resource_type") in BUILDABLE and (project is None or n.get("package_name") == project)
    }
    parents = {
        uid: [p for p in n.get("depends_on", {}).get("nodes", []) if p in buildable]
        for uid, n in buildable.items()
    }
    order = _toposort(parents)

    ancestors: dict[str, set[str]] = {}
    for uid in order:
        acc: set[str] = set()
        for p in parents[uid]:
            acc |= {p} | ancestors[p]
        ancestors[uid] = acc

    nodes = {uid: _node(uid, buildable[uid], parents[uid]) for uid in order}
    graph = DbtGraph(nodes, [], [], [])
    cross_parents: set[str] = set()
    position = {uid: i for i, uid in enumerate(order)}
    for n in sorted(all_nodes.values(), key=lambda n: n["unique_id"]):
        if n.get("resource_type") not in TEST_TYPES:
            continue
        if project is not None and n.get("package_name") != project:
            continue
        deps = [p for p in n.get("depends_on", {}).get("nodes", []) if p in buildable]
        if not deps:
            graph.source_tests.append(n["name"])
            graph.source_test_ids.append(n["unique_id"])
            continue
        last = max(deps, key=position.__getitem__)
        if all(d == last or d in ancestors[last] for d in deps):
            nodes[last].tests.append(n["name"])
            nodes[last].test_ids.append(n["unique_id"])
        else:
            graph.cross_tests.append(n["name"])
            graph.cross_test_ids.append(n["unique_id"])
            cross_parents.update(deps)
    graph.cross_parents = sorted(cross_parents, key=position.__getitem__)
    return graph


@cache
def _load_manifest(path: str, mtime: float) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_graph(manifest_path: Path) -> DbtGraph:
    if not manifest_path.exists():
        raise FileNotFoundError(
            f"dbt manifest not found at {manifest_path}: run `make manifest` (dbt parse) first"
        )
    return graph_from_manifest(_load_manifest(str(manifest_path), manifest_path.stat().st_mtime))


# ------------------------------------------------------------------------------ task bodies


def _invoke_or_raise(settings: Any, command: list[str]) -> Any:
    """Run dbt; a run that could not start fails the task (a locked warehouse is retried)."""
    from airflow.sdk.exceptions import AirflowFailException

    from growthops.build.dbt import DbtFailure, invoke
    from growthops.build.stage import release_dbt_duckdb
    from growthops.reports import failure_message, report_dbt_failure, report_if_final_try
    from growthops.warehouse import is_lock_error

    try:
        result = invoke(settings, command, raise_on_failure=False)
    finally:
        release_dbt_duckdb()  # the failure report and the next stage open the build DB
    locked = result.failures and all(is_lock_error(Exception(o.message)) for o in result.failures)
    if (result.exception and not result.outcomes) or locked:
        exc = DbtFailure(result)
        if locked or is_lock_error(Exception(result.exception)):
            why = result.exception or result.failures[0].message
            report_if_final_try(
                exc, summary=f"dbt {' '.join(command)} could not lock the warehouse: {why}", settings=settings
            )
            raise RuntimeError(f"warehouse locked, will retry: {why}")
        raise AirflowFailException(failure_message(report_dbt_failure(exc, settings)))
    return result


def _outcomes_by_owner(graph: DbtGraph, result: Any) -> dict[str, list[dict[str, Any]]]:
    owners = graph.owners()
    out: dict[str, list[dict[str, Any]]] = {}
    for o in result.outcomes:
        owner = owners.get(o.unique_id)
        if owner is not None:
            out.setdefault(owner, []).append(
                {"name": o.name, "type": o.resource_type, "status": o.status, "message": o.message,
                 "seconds": round(o.seconds, 2)}
            )  # fmt: skip
    return out


def produce(manifest_path: str) -> dict[str, Any]:
    """Body of the producer: one ``dbt build`` of the project; every node's outcome as XCom.

    Unit tests run once per code version (:func:`growthops.build.dbt.unit_test_plan`); data
    tests run in every build.
    """
    from growthops.build.dbt import DbtFailure, record_unit_tests, unit_test_plan
    from growthops.config import load_settings
    from growthops.reports import report_dbt_failure

    settings = load_settings()
    version, skip_args = unit_test_plan(settings, Path(manifest_path))
    result = _invoke_or_raise(settings, ["build", *skip_args])
    record_unit_tests(settings, version, ran=not skip_args, success=result.success)
    report = None
    if not result.success:  # one report for every failed node, written while the rows are there
        report = str(report_dbt_failure(DbtFailure(result), settings))
    return {
        "token": uuid.uuid4().hex,
        "success": result.success,
        "unit_tests": "skipped: passed on this code version" if skip_args else "ran",
        "report": report,
        "outcomes": _outcomes_by_owner(load_graph(Path(manifest_path)), result),
    }


def _selection(graph: DbtGraph, name: str) -> list[str]:
    if name == SOURCE_TESTS:
        return ["test", "--select", *graph.source_tests]
    if name == CROSS_TESTS:
        return ["test", "--select", *graph.cross_tests]
    node = next(n for n in graph.order() if n.name == name)
    return ["build", "--select", node.name, *node.tests]


def _marker(settings: Any, name: str) -> Path:
    from growthops.reports import _airflow_context, report_path

    ctx = _airflow_context()
    path = report_path(settings, ctx.get("dag_id") or "dbt", ctx.get("run_id") or "unknown", name)
    return path.with_name(f"{path.stem}.mirrored")


def watch(manifest_path: str, name: str, produced: dict[str, Any]) -> dict[str, Any]:
    """Body of a node task: mirror the producer's outcome for ``name``, or rebuild it on a retry."""
    from airflow.sdk.exceptions import AirflowFailException

    from growthops.config import load_settings
    from growthops.logs import get_logger
    from growthops.reports import failure_message

    log = get_logger(__name__)
    settings = load_settings()
    marker = _marker(settings, name)
    token = (produced or {}).get("token")
    if token and not (marker.exists() and marker.read_text(encoding="utf-8") == token):
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(token, encoding="utf-8")
        outcomes = produced["outcomes"].get(name, [])
        for o in outcomes:
            log.info("%-6s %-9s %s (%.1fs)%s", o["status"].upper(), o["type"], o["name"], o["seconds"],
                     f" - {o['message']}" if o["status"] in {"error", "fail"} else "")  # fmt: skip
        failed = [o["name"] for o in outcomes if o["status"] in {"error", "fail", "runtime error"}]
        if failed:
            raise AirflowFailException(
                f"{len(failed)} dbt node(s) of {name} failed: {', '.join(failed[:5])}; "
                + failure_message(produced["report"])
            )
        return {"mirrored": token, "nodes": len(outcomes)}
    # cleared after the producer's outcome was mirrored: rebuild this selection only
    result = run_dbt_step(_selection(load_graph(Path(manifest_path)), name), settings=settings)
    return {"rebuilt": name, "nodes": len(result.outcomes)}


def run_dbt_step(command: list[str], *, settings: Any = None) -> Any:
    """One dbt command as a task: a failed node writes its report (failing rows traced to export
    file and line) and fails without retry; a locked warehouse is retried, reported on the last try."""
    from airflow.sdk.exceptions import AirflowFailException

    from growthops.build.dbt import DbtFailure
    from growthops.config import load_settings
    from growthops.reports import failure_message, report_dbt_failure

    settings = settings or load_settings()
    result = _invoke_or_raise(settings, command)
    if not result.success:
        raise AirflowFailException(failure_message(report_dbt_failure(DbtFailure(result), settings)))
    return result


def render_dbt_tasks(manifest_path: Path, pool: str, group_id: str = "dbt"):
    """Create the dbt task group inside the current DAG context and return it."""
    from airflow.sdk import TaskGroup, task

    graph = load_graph(manifest_path)
    with TaskGroup(group_id=group_id) as tg:
        path = str(manifest_path)
        producer = task(task_id=PRODUCER, pool=pool, doc_md=produce.__doc__)(produce)(path)

        def watcher(name: str, doc: str):
            # no pool: mirroring reads XCom only, so the node tasks finish side by side; the rare
            # rebuild of a cleared task meets a busy warehouse as a lock error, retried with backoff.
            # No XCom push: nothing reads a node task's return value, and the push is one
            # execution-API call and one metadata-DB row per node task in every run.
            return task(task_id=name, doc_md=doc, do_xcom_push=False)(watch)(path, name, producer)

        src = None
        if graph.source_tests:
            src = watcher(SOURCE_TESTS, "Tests on the raw sources: " + ", ".join(graph.source_tests))
        built: dict[str, Any] = {}
        for node in graph.order():
            built[node.unique_id] = watcher(node.name, node.doc_md())
            for parent in node.parents:
                built[parent] >> built[node.unique_id]
            if src is not None and not node.parents:
                src >> built[node.unique_id]
        if graph.cross_tests:
            cross = watcher(CROSS_TESTS, "Tests spanning several models: " + ", ".join(graph.cross_tests))
            for uid in graph.cross_parents:
                built[uid] >> cross
    return tg
