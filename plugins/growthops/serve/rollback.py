"""Rollback: serve a kept version again, in one atomic step, with every erasure re-applied.

"Previous" is the version the currently served one replaced (its publish log's second-last row),
so repeated rollbacks walk back the lineage; ``to_run_id`` picks the newest kept version of a run.
When the serving file itself is unreadable (damaged, or held read-write by a client), the newest
intact kept version is served again.

Before it is served, the target gets every erasure recorded since (:mod:`growthops.erasure`): a
version published before a contact was erased must not bring its email hash back. The event is
appended to ``versions/HISTORY.jsonl``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from growthops.config import Settings
from growthops.erasure import erased_contacts, scrub_file
from growthops.logs import get_logger
from growthops.serve import publish as pub
from growthops.serve.versions import (
    RollbackError,
    RollbackResult,
    ServedVersion,
    _own_run_id,
    append_history,
    intact,
    list_versions,
    publish_lock,
    read_history,
    read_publish_log,
    served_state,
)

log = get_logger(__name__)


def _target_of_run(versions: list[Path], to_run_id: str) -> Path:
    candidates = [p for p in versions if intact(p) and _own_run_id(p) == to_run_id]
    if not candidates:
        kept = ", ".join(
            (_own_run_id(p) if intact(p) else f"{p.name} (unreadable)") or p.name for p in versions
        )
        raise RollbackError(f"no kept version of run {to_run_id!r}; kept runs: {kept or 'none'}")
    return candidates[-1]


def _previous(settings: Settings, versions: list[Path], current: ServedVersion) -> Path:
    by_name = {p.name: p for p in versions}
    earlier = [
        by_name[r["version_file"]]
        for r in current.lineage[:-1]
        if r["version_file"] in by_name and intact(by_name[r["version_file"]])
    ]
    if not earlier:
        raise RollbackError(
            f"no previous version of run {current.run_id} is kept under {settings.versions_dir}"
        )
    return earlier[-1]


def _newest_intact(settings: Settings, versions: list[Path], problem: str) -> Path:
    good = [p for p in versions if intact(p)]
    if not good:
        raise RollbackError(f"{problem}, and no intact version is kept under {settings.versions_dir}")
    log.warning("%s: serving the newest intact kept version, %s", problem, good[-1].name)
    return good[-1]


def _served_by_journal(settings: Settings, versions: list[Path]) -> ServedVersion | None:
    """What the journal says BI reads (its kept copy), when the serving file itself cannot be opened."""
    events = [e for e in read_history(settings) if e.get("event") in ("publish", "rollback")]
    by_name = {p.name: p for p in versions}
    path = by_name.get(events[-1].get("version_file", "")) if events else None
    if path is None or not intact(path):
        return None
    return ServedVersion.of_file(path)


def choose_target(settings: Settings, to_run_id: str | None) -> tuple[Path, ServedVersion | None, str | None]:
    """(version to serve, what is served now, why the serving file is unreadable or None)."""
    versions = list_versions(settings)
    current, problem = served_state(settings)
    if to_run_id is not None:
        return _target_of_run(versions, to_run_id), current, problem
    if problem is not None and "held read-write" in problem:
        current = _served_by_journal(settings, versions)  # the file is fine, a client holds it
    if problem is not None and current is None:
        return _newest_intact(settings, versions, problem), None, problem
    if current is None:
        raise RollbackError(f"nothing is published at {settings.serving_path}")
    return _previous(settings, versions, current), current, None


def rollback(settings: Settings, to_run_id: str | None = None) -> RollbackResult:
    """Serve the previous version again (or the newest version of ``to_run_id``), atomically."""
    with publish_lock(settings):
        pub._cleanup_leftovers(settings)
        target, current, problem = choose_target(settings, to_run_id)
        erased = sorted(erased_contacts(settings))
        scrubbed = scrub_file(target, erased) if erased else 0
        rows = read_publish_log(target)
        if not rows:
            raise RollbackError(f"{target.name} has no publish log")
        pub._point_serving_at(settings, target)
        at = datetime.now(UTC).replace(tzinfo=None)
        append_history(
            settings,
            {
                "event": "rollback",
                "at": at.isoformat(),
                "run_id": rows[-1]["run_id"],
                "version_file": target.name,
                "from_run_id": current.run_id if current else None,
                "from_version_file": current.version_file if current else None,
                "published_at": rows[-1]["published_at"].isoformat(),
                "source_batches": len(rows[-1]["source_batches"]),
                "serving_was_unreadable": problem,
                "erasures_reapplied": len(erased),
                "erased_rows_scrubbed": scrubbed,
            },
        )
    log.warning(
        "rolled back: serving run %s (%s), was %s",
        rows[-1]["run_id"],
        target.name,
        current and current.run_id,
    )
    return RollbackResult(
        run_id=rows[-1]["run_id"],
        published_at=rows[-1]["published_at"],
        version_file=target,
        from_run_id=current.run_id if current else None,
        from_version_file=current.version_file if current else None,
    )
