"""Rebuild an incremental model in full when its definition changed (DECISIONLOG 80).

An incremental model keeps the rows earlier builds computed and replaces only those whose
*inputs* changed. Rows are also wrong when the *definition* changed: the model's SQL, a model or
seed upstream of it (an edited ``channel_mapping`` re-attributes every contact), a macro, its
config or a var. Nothing in the data says so, so an incremental run kept the old rows.

Before each ``dbt build`` or ``dbt run``, :func:`plan` compares every incremental model's
definition with the one recorded for the rows its table holds, and the build rebuilds the models
that differ in full (the project's ``should_full_refresh`` macro reads their names from
:data:`ENV_VAR`), the rest incrementally. After the build :func:`record` stores the definitions
of the models it built successfully.

A definition is a set of parts, each a hash: the model's config, the checksum of the model and of
every model, seed and snapshot upstream of it, each macro of the project (dbt records only part
of the macros a model calls), and the vars (the project's defaults and the growthops config's).
Sources are data, not definition. A seed's checksum is its content's hash up to 1 MiB; dbt
checksums a larger seed by its path, so an edit of one is not seen. Without a record (the first
build of this release on a warehouse), every incremental model is rebuilt in full once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from growthops.config import Settings

ENV_VAR = "GROWTHOPS_REBUILD_IN_FULL"  # comma-separated model names; read by macros/rebuild_in_full.sql
NOT_RECORDED = "(not recorded)"
_UPSTREAM_TYPES = {"model", "seed", "snapshot"}


def record_path(settings: Settings) -> Path:
    return settings.data_dir / "dbt" / "incremental_definitions.json"


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _field(obj: Any, name: str) -> Any:
    """``name`` of a manifest entry: a ``manifest.json`` dict or dbt's in-memory object."""
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _node_facts(node: Any) -> tuple[str, str, str, list[str]]:
    """(resource type, materialization, checksum, parent node ids) of a manifest node."""
    config, checksum, depends_on = (
        _field(node, "config"),
        _field(node, "checksum"),
        _field(node, "depends_on"),
    )
    return (
        str(_field(node, "resource_type")),
        str(_field(config, "materialized")),
        str(_field(checksum, "checksum")),
        list(_field(depends_on, "nodes") or []),
    )


def _config(node: Any) -> object:
    config = _field(node, "config")
    return config if isinstance(config, Mapping) else config.to_dict()


def definitions(
    manifest: Any, variables: Mapping[str, object], project: str = "growthops"
) -> dict[str, dict[str, str]]:
    """``{model name: {part: hash}}`` for every incremental model of ``project`` in ``manifest``
    (dbt's in-memory Manifest or a loaded ``manifest.json``)."""
    nodes = _field(manifest, "nodes")
    facts = {uid: _node_facts(node) for uid, node in nodes.items()}
    shared = {
        uid: _digest(_field(macro, "macro_sql"))
        for uid, macro in _field(manifest, "macros").items()
        if _field(macro, "package_name") == project
    }
    shared["vars"] = _digest(dict(variables))
    out: dict[str, dict[str, str]] = {}
    for uid, (kind, materialized, checksum, parents) in facts.items():
        if kind != "model" or materialized != "incremental" or not uid.startswith(f"model.{project}."):
            continue
        parts = {uid: checksum, "config": _digest(_config(nodes[uid])), **shared}
        todo = list(parents)
        while todo:
            parent = todo.pop()
            if parent in parts or parent not in facts or facts[parent][0] not in _UPSTREAM_TYPES:
                continue  # seen, a source, or not a definition
            parts[parent] = facts[parent][2]
            todo.extend(facts[parent][3])
        out[_field(nodes[uid], "name")] = parts
    return out


def changed_parts(current: Mapping[str, str], recorded: Mapping[str, str] | None) -> list[str]:
    """The parts of one model's definition that differ from the record (added, removed or changed)."""
    if recorded is None:
        return [NOT_RECORDED]
    return sorted(k for k in current.keys() | recorded.keys() if current.get(k) != recorded.get(k))


def changed_models(
    current: Mapping[str, Mapping[str, str]], recorded: Mapping[str, Mapping[str, str]]
) -> dict[str, list[str]]:
    """``{model: the parts that differ}`` for the models of ``current`` whose definition is not the
    recorded one."""
    changed = {name: changed_parts(parts, recorded.get(name)) for name, parts in current.items()}
    return {name: parts for name, parts in changed.items() if parts}


@dataclass
class Plan:
    """What a build rebuilds in full, and why; :meth:`env` is what the project's macro reads."""

    current: dict[str, dict[str, str]]
    changed: dict[str, list[str]] = field(default_factory=dict)  # model -> the parts that differ
    has_record: bool = True

    def env(self) -> str:
        return ",".join(sorted(self.changed))

    def summary(self) -> str:
        if not self.has_record:
            return (
                "every incremental model: no record of the definitions its table was built with "
                "(a new warehouse, or the first build of this release)"
            )

        def why(parts: list[str]) -> str:
            names = [p.rsplit(".", 1)[-1] for p in parts]
            return ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")

        models = "; ".join(f"{model} ({why(parts)})" for model, parts in sorted(self.changed.items()))
        return f"{models}: their definition changed since the build of their rows"


def read_record(settings: Settings) -> dict[str, dict[str, str]]:
    try:
        record = json.loads(record_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def plan(settings: Settings, manifest: Any, variables: Mapping[str, object]) -> Plan:
    """The incremental models whose definition differs from the recorded one."""
    current = definitions(manifest, variables)
    recorded = read_record(settings)
    return Plan(current=current, changed=changed_models(current, recorded), has_record=bool(recorded))


def record(settings: Settings, built: Plan, models: Iterable[str]) -> None:
    """After a build or run: the ``models`` it built successfully hold their current definition
    (rebuilt in full where it changed). The others keep their record: a model that failed, was
    skipped or not selected is rebuilt in full again by the next build if its definition changed."""
    recorded = read_record(settings)
    stored = {name: parts for name, parts in recorded.items() if name in built.current}
    stored.update({name: built.current[name] for name in models if name in built.current})
    if stored == recorded:
        return
    path = record_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(stored, sort_keys=True, indent=1), encoding="utf-8")
    tmp.replace(path)


@contextlib.contextmanager
def rebuilding(built: Plan) -> Iterator[None]:
    """Within the block, dbt rebuilds ``built``'s changed models in full (and only within it: the
    process may run other dbt commands later)."""
    previous = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = built.env()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = previous
