"""How ``make test`` spreads the suite over pytest-xdist workers (``--dist loadgroup``).

A session fixture is built once per worker process. Building the expensive ones (a generated and
published data world, a dbt build, Airflow initialised on PostgreSQL) on every worker would cost
more than the parallelism gains, so every test is put in an ``xdist_group``: tests that share a
session fixture defined in one of the suite's conftests, and tests of one file (module fixtures),
land in the same group, which one worker runs. Groups are the connected sets of "same file" and
"same session fixture".

The groups are handed out longest first (``LONGEST_FIRST``, from ``--durations`` of a full run),
then in collection order, so no long group starts last while the other worker idles. The table
only steers the balance: a stale entry makes the run slower, never wrong.
"""

from __future__ import annotations

import pytest

# Cheap enough to start on every worker that needs it: does not tie its users to one worker.
PER_WORKER = {"postgres_server"}

# Group members (a session fixture's name or a test file) of the longest groups, longest first.
LONGEST_FIRST = (
    "airflow_on_postgres",  # compose init on PostgreSQL twice, the probe and 9 DAG runs in one process
    "tests/deploy/test_postgres_warehouse.py",  # three rounds built on DuckDB and PostgreSQL
    "built_warehouse",  # the dbt suites' two-round build (+ recall_warehouse, joined by the oracle)
    "airflow_env",  # end-to-end `airflow dags test` runs, the Airflow UI on their failed run
    "published_world",  # the shared world, the report
    "tests/oncall/conftest.py::pipeline",
)


def _session_fixtures(item: pytest.Item) -> set[str]:
    """The session fixtures of the suite's conftests ``item`` uses (``dir/conftest.py::name``),
    including those a parametrized fixture requests by name (``request.getfixturevalue``)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return set()
    manager = item.session._fixturemanager
    requested = set(info.names_closure)
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        requested |= {v for v in callspec.params.values() if isinstance(v, str)}
    found = set()
    for name in requested - PER_WORKER:
        defs = info.name2fixturedefs.get(name) or manager.getfixturedefs(name, item)
        if not defs:
            continue
        fixturedef = defs[-1]  # the definition this item gets (the closest override)
        conftest = fixturedef.baseid.startswith("tests") and not fixturedef.baseid.endswith(".py")
        if fixturedef.scope == "session" and conftest:
            found.add(f"{fixturedef.baseid}/conftest.py::{name}")
    return found


def _rank(members: set[str]) -> int:
    for rank, key in enumerate(LONGEST_FIRST):
        if any(m == key or m.endswith(f"::{key}") for m in members):
            return rank
    return len(LONGEST_FIRST)


def assign_groups(items: list[pytest.Item]) -> None:
    """Mark every item with its group and reorder ``items`` (in place) longest group first."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    keys = {}
    for item in items:
        keys[item.nodeid] = {item.nodeid.split("::", 1)[0], *_session_fixtures(item)}
        first, *rest = sorted(keys[item.nodeid])
        for other in rest:
            parent[find(other)] = find(first)
    groups: dict[str, set[str]] = {}
    for members in keys.values():
        for member in members:
            groups.setdefault(find(member), set()).add(member)
    order = {root: (_rank(members), index) for index, (root, members) in enumerate(groups.items())}
    for item in items:
        root = find(next(iter(keys[item.nodeid])))
        item.add_marker(pytest.mark.xdist_group(root.replace("::", ":")))  # xdist appends "@group" to the id
    items.sort(key=lambda item: order[find(next(iter(keys[item.nodeid])))])


def distributed(config: pytest.Config) -> bool:
    """True in an xdist worker of a ``--dist loadgroup`` run (xdist sets the worker's ``dist`` to
    "no" and its ``loadgroup`` option)."""
    return hasattr(config, "workerinput") and bool(config.getoption("loadgroup", False))
