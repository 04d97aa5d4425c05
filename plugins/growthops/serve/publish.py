"""Write-audit-publish of the marts (SPEC §5): one atomic step from the build DB to the serving file.

Layout under ``<data>/warehouse/``::

    growthops.duckdb                 the build database (raw, staging, intermediate, marts)
    serving.duckdb                   what BI opens, read-only: an independent copy of one version file
    versions/serving-<UTC stamp>-<run>.duckdb   every published version (read-only; rewritten, as a fresh copy, only to remove PII after an erasure)
    versions/HISTORY.jsonl           journal of publications and rollbacks (append-only)

How a publication goes (:func:`publish`):

1. the content fingerprint of every table (and view) of schema ``marts`` of the build DB is computed
   in SQL (:mod:`growthops.serve.fingerprint`) and compared with the fingerprints stored in the
   kept version BI reads now: equal marts are *carried* (:func:`~growthops.serve.version_file.plan_version`);
2. the new version is written as ``versions/<name>.duckdb.building``, ATTACHed from the build
   connection: when marts are carried, the file starts as an independent file copy of the previous
   version (reflink or in-kernel copy) and only the other marts are dropped and copied again from
   the build, except that a large mart with the previous version's shape gets only its changed
   rows (:mod:`growthops.serve.row_delta`); otherwise it starts empty and every mart is copied. Either way with table and column
   comments (BI reads descriptions), and schema ``meta`` is written anew: ``meta.publish_log``
   (below), the data-quality summary and ``meta.mart_fingerprints``;
3. ``CHECKPOINT`` and ``DETACH``; no ``.wal`` may remain (renaming a file whose data is still in its
   WAL publishes an empty database); the file is opened *read-only* and verified: same tables and
   row counts as the build, in every carried or patched mart the build's content fingerprint, its
   own publish-log row on top. A kept mart that fails this (the previous version was rewritten
   since) makes the publication start over as a full one;
4. erasures (:mod:`growthops.erasure`) are applied to it, should the build still hold PII of an
   erased contact; the file is fsynced, and only then it becomes the serving file: copied to
   ``serving.duckdb.tmp`` (an independent copy, never a hard link: damage to what BI reads cannot
   reach a kept version), fsync, ``os.replace`` over ``serving.duckdb``, fsync the directory;
   finally ``.building`` is renamed to its version name. A reader that opened the old serving file
   keeps reading the old inode, untouched; a new reader opens the new, complete file.
5. versions beyond ``settings.keep_versions`` previous ones are pruned.

A crash anywhere before the ``os.replace`` leaves ``serving.duckdb`` byte-identical; the next
publication removes the leftovers (``*.building``, ``serving.duckdb.tmp``). A crash between the
replace and the final rename is recovered (the serving file's own log names the ``.building`` file:
it is renamed).

**The publish log** lives in schema ``meta`` of every version file, not in ``marts``: ``marts`` is
the BI contract (SPEC §3/§9) and holds only marts. ``meta.publish_log`` has one row per
publication in the *lineage* of that version: the rows of the serving file it replaced, carried
forward, plus its own (the newest). A version's own row is never changed afterwards, so a
rollback does not write into the log: it points ``serving.duckdb`` at the previous version file
as it is (its log then ends with its own row again) and appends the event to
``versions/HISTORY.jsonl``. A publication after a rollback carries the lineage of the version
actually served, so the rolled-back run is not in it (it is in HISTORY.jsonl).

**Data-quality summary**: every version also carries ``meta.load_ledger`` (the build DB's file-level
ledger: raw gate status, rows in file / loaded / rejected, quarantine path) and
``meta.rejects_summary`` (reject counts per batch, rule and column, no row contents), so that
readers of the serving file alone (``growthops report``) can show gate results and quarantines.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from growthops.config import Settings
from growthops.erasure import erased_contacts, scrub_file
from growthops.logs import get_logger
from growthops.serve.audit import (
    _as_publish_error,
    _mart_relations,
    _refuse_lost_build,
    _source_batches_since,
)
from growthops.serve.fingerprint import mart_fingerprints
from growthops.serve.version_file import (  # noqa: F401  (PUBLISH_LOG_*: re-exported)
    PUBLISH_LOG_COMMENTS,
    PUBLISH_LOG_DDL,
    ContentMismatch,
    VersionPlan,
    plan_version,
    verify_version,
    write_version,
)
from growthops.serve.versions import (  # noqa: F401  (re-exported: the serve stage's public API)
    BUILDING_SUFFIX,
    HISTORY_FILE,
    LOCK_FILE,
    LOG_SCHEMA,
    LOG_TABLE,
    MARTS_SCHEMA,
    VERSION_RE,
    Publication,
    PublishError,
    RollbackError,
    RollbackResult,
    ServedVersion,
    append_history,
    clone_file,
    current_version,
    fsync_dir,
    fsync_file,
    intact,
    list_versions,
    prune_versions,
    publish_lock,
    read_history,
    read_log,
    read_publish_log,
    safe_run_id,
    served_file,
    served_state,
    version_name,
    wal_path,
)
from growthops.warehouse import WarehouseLocked, connect, is_lock_error

log = get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class PublishResult(Publication):
    version_file: Path
    serving_path: Path
    pruned: list[Path] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)  # marts written from the build DB
    patched: list[str] = field(
        default_factory=list
    )  # marts kept from the previous version, changed rows replaced
    carried: list[str] = field(default_factory=list)  # unchanged marts kept from the previous version


def _point_serving_at(settings: Settings, version: Path) -> None:
    """Atomically make ``serving.duckdb`` an independent copy of ``version`` (copy, fsync, rename)."""
    serving = settings.serving_path
    tmp = serving.with_name(serving.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        clone_file(version, tmp)
        tmp.chmod(0o444)
        fsync_file(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(serving)
    fsync_dir(serving.parent)


def _serves(settings: Settings, version_name: str) -> bool:
    served, _problem = served_state(settings)
    return served is not None and served.version_file == version_name


def _cleanup_leftovers(settings: Settings) -> None:
    """Remove what a crashed publication left; finish one that crashed after its replace."""
    serving = settings.serving_path
    serving.with_name(serving.name + ".tmp").unlink(missing_ok=True)
    if not settings.versions_dir.is_dir():
        return
    for path in settings.versions_dir.iterdir():
        if path.name.endswith((".erasing", ".erasing.wal", BUILDING_SUFFIX + ".wal")):
            path.unlink(missing_ok=True)
        elif path.name.endswith(BUILDING_SUFFIX):
            final = path.with_name(path.name.removesuffix(BUILDING_SUFFIX))
            if VERSION_RE.match(final.name) and _serves(settings, final.name):
                log.warning("recovering %s: it is already the serving file", final.name)
                path.rename(final)
            else:
                log.warning("removing leftover of an unfinished publication: %s", path.name)
                path.unlink(missing_ok=True)
    fsync_dir(settings.versions_dir)


# --------------------------------------------------------------------------------------- publish


def _served_lineage(settings: Settings) -> list[dict[str, Any]]:
    """The publish log of the serving file, to carry forward. A lock is transient (raise, retry);
    an unreadable serving file must not block every later publication: start a new lineage (the
    journal versions/HISTORY.jsonl still has the old one)."""
    if not settings.serving_path.exists():
        return []
    try:
        return read_publish_log(settings.serving_path)
    except duckdb.Error as exc:
        if is_lock_error(exc):
            raise WarehouseLocked(
                f"{settings.serving_path} is opened read-write by another process: {exc}"
            ) from exc
        log.warning(
            "serving file %s is unreadable (%s): starting a new publish log", settings.serving_path, exc
        )
        return []


def _open_build(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The build DB, read-only; read-write when this process already holds it so (in-process dbt)."""
    try:
        return connect(settings.warehouse_path, read_only=True)
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise
        return connect(settings.warehouse_path)


def _write_and_serve(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    relations: list[tuple[str, str | None]],
    lineage: list[dict[str, Any]],
    own_row: dict[str, Any],
    plan: VersionPlan,
) -> tuple[Path, VersionPlan]:
    """Write, verify, scrub and fsync the version file ``own_row["version_file"]``, point serving at
    it, and return its kept path and the plan used; a failure leaves no part of it behind (raises
    PublishError)."""
    final = settings.versions_dir / own_row["version_file"]
    building = final.with_name(final.name + BUILDING_SUFFIX)

    def write_and_verify(plan: VersionPlan) -> VersionPlan:
        written = write_version(con, catalog, building, relations, lineage, own_row, plan)
        verify_version(building, plan.fingerprints, own_row["run_id"], written.kept)
        return written

    try:
        try:
            plan = write_and_verify(plan)
        except ContentMismatch as exc:
            if plan.base is None:
                raise
            # a kept mart does not match the build: a carried one's version was rewritten (by an
            # erasure) since, or a row delta met a mart with repeated rows; start over with every
            # mart copied
            log.warning("%s; writing the version again with every mart copied", exc)
            building.unlink()
            plan = write_and_verify(plan.full())
        if scrub_file(building, list(erased_contacts(settings))):
            verify_version(building, plan.fingerprints, own_row["run_id"])
        fsync_file(building)
        building.chmod(0o444)  # versions are never written again
        _point_serving_at(settings, building)  # the publication: one rename
    except BaseException as exc:
        building.unlink(missing_ok=True)
        wal_path(building).unlink(missing_ok=True)
        converted = _as_publish_error(exc, settings)
        if converted is exc:
            raise
        raise converted from exc
    building.rename(final)
    fsync_dir(settings.versions_dir)
    return final, plan


def _journal_publication(
    settings: Settings, own_row: dict[str, Any], previous: dict[str, Any] | None, plan: VersionPlan
) -> None:
    """The publication's line in ``versions/HISTORY.jsonl``, with the marts copied and carried."""
    append_history(
        settings,
        {
            "event": "publish",
            "at": own_row["published_at"].isoformat(),
            "run_id": own_row["run_id"],
            "version_file": own_row["version_file"],
            "previous_run_id": previous["run_id"] if previous else None,
            "row_counts": own_row["row_counts"],
            "published_at": own_row["published_at"].isoformat(),
            "source_batches": len(own_row["source_batches"]),
            "marts_copied": plan.copied,
            "marts_patched": sorted(plan.patched),
            "marts_carried": sorted(plan.carried),
        },
    )


def publish(
    settings: Settings,
    run_id: str,
    source_batches: list[str] | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> PublishResult:
    """Publish schema ``marts`` of the build DB as the new serving version, atomically.

    ``con``: an open connection whose current database is the build DB (default: open
    ``settings.warehouse_path`` read-only). ``source_batches``: the load batches new in this
    version; default: raw batches loaded since the previous publication. Raises PublishError (and
    publishes nothing) when the build has no marts or the written file fails verification.
    """
    started = time.monotonic()
    own_con = con is None
    if con is None:
        con = _open_build(settings)
    try:
        with publish_lock(settings):
            _cleanup_leftovers(settings)
            con.execute("set enable_progress_bar = false")  # no terminal bars in task logs
            catalog = con.execute("select current_database()").fetchone()[0]
            relations = _mart_relations(con, catalog)
            if not relations:
                raise PublishError(f"schema {MARTS_SCHEMA} of {catalog} has no tables: nothing to publish")
            fingerprints = mart_fingerprints(con, catalog)
            counts = {name: fp.row_count for name, fp in fingerprints.items()}

            lineage = _served_lineage(settings)
            previous = lineage[-1] if lineage else None
            _refuse_lost_build(con, catalog, previous)
            since = previous["published_at"] if previous else None
            derived_batches, watermarks = _source_batches_since(con, catalog, since)
            batches = sorted(set(source_batches)) if source_batches is not None else derived_batches

            published_at = datetime.now(UTC).replace(tzinfo=None)
            if previous and published_at <= previous["published_at"]:  # clock stepped back: keep order
                published_at = previous["published_at"] + timedelta(microseconds=1)
            name = version_name(published_at.replace(tzinfo=UTC), run_id)
            own_row = {
                "run_id": run_id,
                "published_at": published_at,
                "source_batches": batches,
                "row_counts": counts,
                "source_watermarks": watermarks,
                "version_file": name,
            }
            base = settings.versions_dir / previous["version_file"] if previous else None
            plan = plan_version(base, fingerprints)
            final, plan = _write_and_serve(settings, con, catalog, relations, lineage, own_row, plan)
            _journal_publication(settings, own_row, previous, plan)
            pruned = prune_versions(settings)
    finally:
        if own_con:
            con.close()
    seconds = time.monotonic() - started
    log.info(
        "published run %s as %s (%s) in %.2fs: %d mart(s) copied, %d patched by their changed rows, "
        "%d carried from the previous version",
        run_id,
        name,
        counts,
        seconds,
        len(plan.copied),
        len(plan.patched),
        len(plan.carried),
    )
    return PublishResult(
        run_id=run_id,
        published_at=published_at,
        version_file=final,
        serving_path=settings.serving_path,
        row_counts=counts,
        source_batches=batches,
        previous_run_id=previous["run_id"] if previous else None,
        pruned=pruned,
        seconds=seconds,
        copied=plan.copied,
        patched=sorted(plan.patched),
        carried=sorted(plan.carried),
    )


def rollback(settings: Settings, to_run_id: str | None = None) -> RollbackResult:
    """Serve the previous version again (see :func:`growthops.serve.rollback.rollback`)."""
    from growthops.serve.rollback import rollback as _rollback

    return _rollback(settings, to_run_id)
