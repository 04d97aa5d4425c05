"""Render the pre-built dbt manifest into Airflow tasks: one task group per model, seed and snapshot.

Why not astronomer-cosmos: cosmos renders the same shape, but importing it costs ~0.8 s on every
parse of the DAG file (the DAG processor re-parses every 30 s, and every task start parses the
file again). Reading the manifest is plain JSON (milliseconds), and the tasks run dbt in-process
through :mod:`growthops.build.dbt` — no subprocess and no project parse per model (dbt reuses
its partial-parse state). Measurements are in the README.

Shape of the rendered graph (matching cosmos' "after each" test behaviour):
- ``<node>.run``: ``dbt seed|run|snapshot --select <node>``;
- ``<node>.test``: the node's data tests and unit tests, after it is built;
- a test that references several models runs in the test task of the model built last among its
  parents when the others are its ancestors, else in ``tests_across_models`` after all of them;
- tests that read only sources run in ``source_tests`` before anything is built.
Every task takes the one-slot DuckDB pool. A failed test stops everything downstream, so a
failing test stops publication.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

BUILDABLE = {"model": "run", "seed": "seed", "snapshot": "snapshot"}
TEST_TYPES = {"test", "unit_test"}


@dataclass
class DbtNode:
    unique_id: str
    name: str
    resource_type: str
    parents: list[str]
    tests: list[str] = field(default_factory=list)  # test/unit_test node names


@dataclass
class DbtGraph:
    nodes: dict[str, DbtNode]  # buildable nodes by unique_id, in topological order
    source_tests: list[str]
    cross_tests: list[str]
    cross_parents: list[str]

    def order(self) -> list[DbtNode]:
        return list(self.nodes.values())


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

    nodes = {
        uid: DbtNode(uid, buildable[uid]["name"], buildable[uid]["resource_type"], parents[uid])
        for uid in order
    }
    source_tests: list[str] = []
    cross_tests: list[str] = []
    cross_parents: set[str] = set()
    position = {uid: i for i, uid in enumerate(order)}
    for n in sorted(all_nodes.values(), key=lambda n: n["unique_id"]):
        if n.get("resource_type") not in TEST_TYPES:
            continue
        if project is not None and n.get("package_name") != project:
            continue
        deps = [p for p in n.get("depends_on", {}).get("nodes", []) if p in buildable]
        if not deps:
            source_tests.append(n["name"])
            continue
        last = max(deps, key=position.__getitem__)
        if all(d == last or d in ancestors[last] for d in deps):
            nodes[last].tests.append(n["name"])
        else:
            cross_tests.append(n["name"])
            cross_parents.update(deps)
    return DbtGraph(nodes, source_tests, cross_tests, sorted(cross_parents, key=position.__getitem__))


@cache
def _load_manifest(path: str, mtime: float) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_graph(manifest_path: Path) -> DbtGraph:
    if not manifest_path.exists():
        raise FileNotFoundError(
            f"dbt manifest not found at {manifest_path}: run `make manifest` (dbt parse) first"
        )
    return graph_from_manifest(_load_manifest(str(manifest_path), manifest_path.stat().st_mtime))


def run_dbt_step(command: list[str]) -> None:
    """Body of every rendered task: run one dbt command; data/code failures fail without retry.

    A failed model or test writes its one-screen report (failing rows traced to export file and
    line) and fails with its summary; a locked warehouse is retried, reported on the last try.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from growthops.build.dbt import DbtFailure, invoke
    from growthops.build.stage import release_dbt_duckdb
    from growthops.config import load_settings
    from growthops.reports import failure_message, report_dbt_failure, report_if_final_try
    from growthops.warehouse import is_lock_error

    settings = load_settings()
    try:
        invoke(settings, command)
    except DbtFailure as exc:
        release_dbt_duckdb()  # the report reads the failing rows from the build DB
        if exc.result.exception and is_lock_error(Exception(exc.result.exception)):
            report_if_final_try(
                exc,
                summary=f"dbt {' '.join(command)} could not lock the warehouse: {exc.result.exception}",
                settings=settings,
            )
            raise RuntimeError(f"warehouse locked, will retry: {exc.result.exception}") from None
        path = report_dbt_failure(exc, settings)
        raise AirflowFailException(failure_message(path)) from None
    finally:
        release_dbt_duckdb()


def render_dbt_tasks(manifest_path: Path, pool: str, group_id: str = "dbt"):
    """Create the task groups inside the current DAG context; return (first tasks, last tasks)."""
    from airflow.sdk import TaskGroup, task

    graph = load_graph(manifest_path)
    built: dict[str, tuple[Any, Any]] = {}

    def step(task_id: str, command: list[str], doc: str):
        return task(task_id=task_id, pool=pool, doc_md=doc)(run_dbt_step)(command)

    with TaskGroup(group_id=group_id) as tg:
        src = None
        if graph.source_tests:
            src = step(
                "source_tests",
                ["test", "--select", *graph.source_tests],
                "Tests on the raw sources: " + ", ".join(graph.source_tests),
            )
        for node in graph.order():
            verb = BUILDABLE[node.resource_type]
            with TaskGroup(group_id=node.name):
                run = step(verb, [verb, "--select", node.name], f"`dbt {verb} --select {node.name}`")
                last = run
                if node.tests:
                    test = step(
                        "test",
                        ["test", "--select", *node.tests],
                        f"Tests of {node.name}: " + ", ".join(node.tests),
                    )
                    run >> test
                    last = test
            built[node.unique_id] = (run, last)
            for parent in node.parents:
                built[parent][1] >> run
            if src is not None and not node.parents:
                src >> run
        if graph.cross_tests:
            cross = step(
                "tests_across_models",
                ["test", "--select", *graph.cross_tests],
                "Tests spanning several models: " + ", ".join(graph.cross_tests),
            )
            for uid in graph.cross_parents:
                built[uid][1] >> cross
    return tg
