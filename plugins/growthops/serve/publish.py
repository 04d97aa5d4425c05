"""Write-audit-publish of the marts (SPEC §5): one atomic step from the build DB to the serving file.

Layout under ``<data>/warehouse/``::

    growthops.duckdb                 the build database (raw, staging, intermediate, marts)
    serving.duckdb                   what BI opens, read-only: a hard link to one version file
    versions/serving-<UTC stamp>-<run>.duckdb   every published version (read-only, never rewritten)
    versions/HISTORY.jsonl           journal of publications and rollbacks (append-only)

How a publication goes (:func:`publish`):

1. every table (and view) of schema ``marts`` of the build DB is copied, with its table and column
   comments (BI reads descriptions), into a *new* file ``versions/<name>.duckdb.building``, ATTACHed
   from the build connection; the file also gets ``meta.publish_log`` (below);
2. ``CHECKPOINT`` and ``DETACH``; no ``.wal`` may remain (renaming a file whose data is still in its
   WAL publishes an empty database); the file is fsynced, then opened *read-only* and verified:
   same tables, same row counts as the build DB, its own publish-log row on top;
3. only then it becomes the serving file: hard link to ``serving.duckdb.tmp`` (a copy where links
   are impossible), fsync, ``os.replace`` over ``serving.duckdb``, fsync the directory; finally
   ``.building`` is renamed to its version name. A reader that opened the old serving file keeps
   reading the old inode, untouched; a new reader opens the new, complete file. No byte of a file a
   reader may have open is ever written: version files are created once and never modified.
4. versions beyond ``settings.keep_versions`` previous ones are pruned.

A crash anywhere before the ``os.replace`` leaves ``serving.duckdb`` byte-identical; the next
publication removes the leftovers (``*.building``, ``serving.duckdb.tmp``). A crash between the
replace and the final rename is recovered (the ``.building`` file *is* the serving file: renamed).

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

import contextlib
import fcntl
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from growthops.config import Settings
from growthops.contracts import CONTRACTS
from growthops.logs import get_logger
from growthops.warehouse import WarehouseLocked, connect, is_lock_error

log = get_logger(__name__)

MARTS_SCHEMA = "marts"
LOG_SCHEMA = "meta"
LOG_TABLE = f"{LOG_SCHEMA}.publish_log"
HISTORY_FILE = "HISTORY.jsonl"
LOCK_FILE = ".publish.lock"
BUILDING_SUFFIX = ".building"
VERSION_RE = re.compile(r"^serving-(?P<stamp>\d{8}T\d{12}Z)-(?P<run>[A-Za-z0-9_.-]+)\.duckdb$")

PUBLISH_LOG_DDL = f"""
create table if not exists {{db}}.{LOG_TABLE} (
    run_id varchar not null,
    published_at timestamp not null,
    source_batches varchar[] not null,
    row_counts json not null,
    source_watermarks json,
    version_file varchar not null
)
"""
PUBLISH_LOG_COMMENTS = {
    None: "One row per publication in the lineage of this serving version; the newest row is this version.",
    "run_id": "Pipeline run (Airflow run id or CLI run) that built and published the version",
    "published_at": "UTC time the version was written",
    "source_batches": "Load batches new in this version (given by the run; default: raw batches loaded since the previous publication)",
    "row_counts": "Row count of every mart table in this version, as a JSON object",
    "source_watermarks": "Per raw table: distinct batches, newest batch day and load time the version was built from",
    "version_file": "Version file name under warehouse/versions/",
}


class PublishError(RuntimeError):
    """The new version failed verification (or there was nothing to publish): nothing was published."""


class RollbackError(RuntimeError):
    """No version to roll back to."""


@dataclass(frozen=True)
class PublishResult:
    run_id: str
    published_at: datetime
    version_file: Path
    serving_path: Path
    row_counts: dict[str, int]
    source_batches: list[str]
    previous_run_id: str | None
    pruned: list[Path] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class ServedVersion:
    """What the serving file holds, read from its own publish log."""

    run_id: str
    published_at: datetime
    source_batches: list[str]
    row_counts: dict[str, int]
    version_file: str
    lineage: list[dict[str, Any]]  # every publish-log row, oldest first (the last one is this version)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["published_at"] = self.published_at.isoformat()
        for row in out["lineage"]:
            row["published_at"] = row["published_at"].isoformat()
        return out


@dataclass(frozen=True)
class RollbackResult:
    run_id: str  # the run now served
    published_at: datetime
    version_file: Path
    from_run_id: str | None
    from_version_file: str | None


# --------------------------------------------------------------------------------------- helpers


def safe_run_id(run_id: str, limit: int = 80) -> str:
    """A file-name-safe form of ``run_id`` (Airflow run ids hold ``:`` and ``+``)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id).strip("._") or "run"
    return safe[:limit]


def version_name(published_at: datetime, run_id: str) -> str:
    stamp = published_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"serving-{stamp}-{safe_run_id(run_id)}.duckdb"


def list_versions(settings: Settings) -> list[Path]:
    """Complete version files, oldest first (``.building`` leftovers are not versions)."""
    if not settings.versions_dir.is_dir():
        return []
    found = [p for p in settings.versions_dir.iterdir() if VERSION_RE.match(p.name)]
    return sorted(found, key=lambda p: VERSION_RE.match(p.name)["stamp"])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems cannot fsync a directory
        _fsync_file(path)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


@contextlib.contextmanager
def _publish_lock(settings: Settings) -> Iterator[None]:
    """One publisher/rollback at a time (Airflow's one-slot pool serialises too; this is the floor)."""
    settings.versions_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.versions_dir / LOCK_FILE, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _append_history(settings: Settings, event: dict[str, Any]) -> None:
    path = settings.versions_dir / HISTORY_FILE
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(event, default=str, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_history(settings: Settings) -> list[dict[str, Any]]:
    """Publication and rollback events, oldest first (``versions/HISTORY.jsonl``)."""
    path = settings.versions_dir / HISTORY_FILE
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            with contextlib.suppress(json.JSONDecodeError):  # a torn last line after a crash
                events.append(json.loads(line))
    return events


def _point_serving_at(settings: Settings, version: Path) -> None:
    """Atomically make ``serving.duckdb`` the file ``version`` (hard link, or copy; then rename)."""
    serving = settings.serving_path
    tmp = serving.with_name(serving.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(version, tmp)
    except OSError:  # no hard links here (another filesystem, or not supported): copy
        shutil.copyfile(version, tmp)
    _fsync_file(tmp)
    tmp.replace(serving)
    _fsync_dir(serving.parent)


def _cleanup_leftovers(settings: Settings) -> None:
    """Remove what a crashed publication left; finish one that crashed after its replace."""
    serving = settings.serving_path
    serving.with_name(serving.name + ".tmp").unlink(missing_ok=True)
    if not settings.versions_dir.is_dir():
        return
    for path in settings.versions_dir.iterdir():
        if path.name.endswith(BUILDING_SUFFIX + ".wal"):
            path.unlink(missing_ok=True)
        elif path.name.endswith(BUILDING_SUFFIX):
            final = path.with_name(path.name.removesuffix(BUILDING_SUFFIX))
            if serving.exists() and path.samefile(serving) and VERSION_RE.match(final.name):
                log.warning("recovering %s: it is already the serving file", final.name)
                path.rename(final)
            else:
                log.warning("removing leftover of an unfinished publication: %s", path.name)
                path.unlink(missing_ok=True)
    _fsync_dir(settings.versions_dir)


def _read_log(con: duckdb.DuckDBPyConnection, catalog: str) -> list[dict[str, Any]]:
    exists = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? and schema_name = ? and table_name = ?",
        [catalog, LOG_SCHEMA, "publish_log"],
    ).fetchone()[0]
    if not exists:
        return []
    cur = con.execute(
        f"select run_id, published_at, source_batches, row_counts, source_watermarks, version_file "
        f"from {_quote(catalog)}.{LOG_TABLE} order by published_at, run_id"
    )
    cols = [d[0] for d in cur.description]
    rows = []
    for values in cur.fetchall():
        row = dict(zip(cols, values, strict=True))
        row["row_counts"] = json.loads(row["row_counts"]) if row["row_counts"] else {}
        row["source_watermarks"] = json.loads(row["source_watermarks"]) if row["source_watermarks"] else {}
        row["source_batches"] = list(row["source_batches"] or [])
        rows.append(row)
    return rows


def read_publish_log(path: Path) -> list[dict[str, Any]]:
    """The publish log of a serving/version file (opened read-only), oldest first."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return _read_log(con, con.execute("select current_database()").fetchone()[0])
    finally:
        con.close()


def current_version(settings: Settings) -> ServedVersion | None:
    """The run, time and source batches the serving file holds (None when nothing is published)."""
    if not settings.serving_path.exists():
        return None
    rows = read_publish_log(settings.serving_path)
    if not rows:
        return None
    own = rows[-1]
    return ServedVersion(
        run_id=own["run_id"],
        published_at=own["published_at"],
        source_batches=own["source_batches"],
        row_counts=own["row_counts"],
        version_file=own["version_file"],
        lineage=rows,
    )


# --------------------------------------------------------------------------------------- publish


def _mart_relations(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str | None]]:
    """(name, comment) of every table and view of schema marts in ``catalog``."""
    return con.execute(
        """
        select table_name, comment from duckdb_tables() where database_name = $db and schema_name = $s
        union all
        select view_name, comment from duckdb_views() where database_name = $db and schema_name = $s
        order by 1
        """,
        {"db": catalog, "s": MARTS_SCHEMA},
    ).fetchall()


def _source_batches_since(
    con: duckdb.DuckDBPyConnection, catalog: str, since: datetime | None
) -> tuple[list[str], dict[str, Any]]:
    """Raw batches loaded after ``since`` and, per raw table, what the build DB holds."""
    existing = {
        f"{s}.{t}"
        for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = ?", [catalog]
        ).fetchall()
    }
    batches: set[str] = set()
    watermarks: dict[str, Any] = {}
    for contract in CONTRACTS.values():
        if contract.raw_table not in existing:
            continue
        schema, table = contract.raw_table.split(".")
        rel = f"{_quote(catalog)}.{_quote(schema)}.{_quote(table)}"
        n, max_day, max_loaded = con.execute(
            f"select count(distinct _batch_id), max(_batch_day), max(_loaded_at) from {rel}"
        ).fetchone()
        watermarks[contract.raw_table] = {
            "batches": n,
            "max_batch_day": str(max_day) if max_day else None,
            "max_loaded_at": max_loaded.isoformat() if max_loaded else None,
        }
        new_only = "and _loaded_at > ?" if since is not None else ""
        rows = con.execute(
            f"select distinct _batch_id from {rel} where _batch_id is not null {new_only}",
            [since] if since is not None else [],
        ).fetchall()
        batches.update(r[0] for r in rows)
    return sorted(batches), watermarks


def _write_version(
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    building: Path,
    relations: list[tuple[str, str | None]],
    lineage: list[dict[str, Any]],
    own_row: dict[str, Any],
) -> None:
    alias = "growthops_new_version"
    con.execute(f"attach {_literal(str(building))} as {alias} (read_write)")
    try:
        con.execute(f"create schema {alias}.{MARTS_SCHEMA}")
        con.execute(f"create schema {alias}.{LOG_SCHEMA}")
        for name, comment in relations:
            src = f"{_quote(catalog)}.{MARTS_SCHEMA}.{_quote(name)}"
            dst = f"{alias}.{MARTS_SCHEMA}.{_quote(name)}"
            con.execute(f"create table {dst} as select * from {src}")
            if comment:
                con.execute(f"comment on table {dst} is {_literal(comment)}")
            for column, col_comment in con.execute(
                "select column_name, comment from duckdb_columns() "
                "where database_name = ? and schema_name = ? and table_name = ? and comment is not null",
                [catalog, MARTS_SCHEMA, name],
            ).fetchall():
                con.execute(f"comment on column {dst}.{_quote(column)} is {_literal(col_comment)}")
        con.execute(PUBLISH_LOG_DDL.format(db=alias))
        for column, text in PUBLISH_LOG_COMMENTS.items():
            target = (
                f"table {alias}.{LOG_TABLE}" if column is None else f"column {alias}.{LOG_TABLE}.{column}"
            )
            con.execute(f"comment on {target} is {_literal(text)}")
        con.executemany(
            f"insert into {alias}.{LOG_TABLE} values (?, ?, ?, ?, ?, ?)",
            [
                [
                    r["run_id"],
                    r["published_at"],
                    r["source_batches"],
                    json.dumps(r["row_counts"], sort_keys=True),
                    json.dumps(r.get("source_watermarks") or {}, sort_keys=True),
                    r["version_file"],
                ]
                for r in [*lineage, own_row]
            ],
        )
        _write_quality_summary(con, catalog, alias)
        con.execute(f"checkpoint {alias}")
    finally:
        con.execute(f"detach {alias}")


# What the raw gate did, for readers of the serving file only (the growth report's data-quality
# page): file-level ledger rows and reject counts per rule, never the rejected records themselves.
QUALITY_TABLES = {
    "load_ledger": (
        "One row per export file version in the build DB's raw.load_ledger when this version was "
        "published: raw gate outcome (status), rows in file / loaded / rejected, quarantine path.",
        """select batch_id, source, day, export_key, file_name, status, rows_in_file, rows_loaded,
                  rows_rejected, message, quarantine_path, started_at, finished_at, superseded_by
           from {src}.raw.load_ledger""",
    ),
    "rejects_summary": (
        "One row per batch x rule x column of the build DB's raw.rejects when this version was "
        "published: how many rows the raw gate rejected, and why (no row contents).",
        """select batch_id, source, day, rule, column_name, count(*) as rejected_rows,
                  min(line) as first_line, max(rejected_at) as rejected_at
           from {src}.raw.rejects group by all""",
    ),
}


def _write_quality_summary(con: duckdb.DuckDBPyConnection, catalog: str, alias: str) -> None:
    """``meta.load_ledger`` and ``meta.rejects_summary`` (see QUALITY_TABLES), when the build has them."""
    present = {
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where database_name = ? and schema_name = 'raw'",
            [catalog],
        ).fetchall()
    }
    for name, (comment, select) in QUALITY_TABLES.items():
        source_table = "rejects" if name == "rejects_summary" else name
        if source_table not in present:
            continue
        dst = f"{alias}.{LOG_SCHEMA}.{name}"
        con.execute(f"create table {dst} as {select.format(src=_quote(catalog))}")
        con.execute(f"comment on table {dst} is {_literal(comment)}")


def _verify_version(path: Path, expected_counts: dict[str, int], run_id: str) -> None:
    """Open the finished file read-only and check it holds exactly what the build DB had."""
    if _wal(path).exists():
        raise PublishError(f"{path.name}: a WAL remains after CHECKPOINT/DETACH; not publishing")
    con = duckdb.connect(str(path), read_only=True)
    try:
        catalog = con.execute("select current_database()").fetchone()[0]
        found = {name for name, _ in _mart_relations(con, catalog)}
        if found != set(expected_counts):
            raise PublishError(
                f"{path.name}: tables {sorted(found)} differ from the build marts {sorted(expected_counts)}"
            )
        for name, expected in expected_counts.items():
            got = con.execute(f"select count(*) from {MARTS_SCHEMA}.{_quote(name)}").fetchone()[0]
            if got != expected:
                raise PublishError(f"{path.name}: {MARTS_SCHEMA}.{name} has {got} rows, build has {expected}")
        rows = _read_log(con, catalog)
        if not rows or rows[-1]["run_id"] != run_id:
            raise PublishError(f"{path.name}: publish log does not end with run {run_id}")
    finally:
        con.close()


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
        with _publish_lock(settings):
            _cleanup_leftovers(settings)
            con.execute("set enable_progress_bar = false")  # no terminal bars in task logs
            catalog = con.execute("select current_database()").fetchone()[0]
            relations = _mart_relations(con, catalog)
            if not relations:
                raise PublishError(f"schema {MARTS_SCHEMA} of {catalog} has no tables: nothing to publish")
            counts = {
                name: con.execute(
                    f"select count(*) from {_quote(catalog)}.{MARTS_SCHEMA}.{_quote(name)}"
                ).fetchone()[0]
                for name, _ in relations
            }

            lineage = _served_lineage(settings)
            previous = lineage[-1] if lineage else None
            since = previous["published_at"] if previous else None
            derived_batches, watermarks = _source_batches_since(con, catalog, since)
            batches = sorted(set(source_batches)) if source_batches is not None else derived_batches

            published_at = datetime.now(UTC).replace(tzinfo=None)
            if previous and published_at <= previous["published_at"]:  # clock stepped back: keep order
                published_at = previous["published_at"] + timedelta(microseconds=1)
            name = version_name(published_at.replace(tzinfo=UTC), run_id)
            final = settings.versions_dir / name
            building = final.with_name(name + BUILDING_SUFFIX)
            own_row = {
                "run_id": run_id,
                "published_at": published_at,
                "source_batches": batches,
                "row_counts": counts,
                "source_watermarks": watermarks,
                "version_file": name,
            }

            try:
                _write_version(con, catalog, building, relations, lineage, own_row)
                _fsync_file(building)
                _verify_version(building, counts, run_id)
                building.chmod(0o444)  # versions are never written again
            except BaseException:
                building.unlink(missing_ok=True)
                _wal(building).unlink(missing_ok=True)
                raise

            _point_serving_at(settings, building)  # the publication: one rename
            building.rename(final)
            _fsync_dir(settings.versions_dir)
            _append_history(
                settings,
                {
                    "event": "publish",
                    "at": published_at.isoformat(),
                    "run_id": run_id,
                    "version_file": name,
                    "previous_run_id": previous["run_id"] if previous else None,
                    "row_counts": counts,
                },
            )
            pruned = prune_versions(settings)
    finally:
        if own_con:
            con.close()
    seconds = time.monotonic() - started
    log.info("published run %s as %s (%s) in %.2fs", run_id, name, counts, seconds)
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
    )


def _served_file(settings: Settings, versions: list[Path]) -> Path | None:
    if not settings.serving_path.exists():
        return None
    for path in versions:
        if path.samefile(settings.serving_path):
            return path
    current = current_version(settings)  # a copy, not a link: match by name from its own log
    if current is not None:
        by_name = settings.versions_dir / current.version_file
        if by_name.exists():
            return by_name
    return None


def prune_versions(settings: Settings) -> list[Path]:
    """Keep the served version and the ``keep_versions`` versions before it in its lineage.

    Versions outside the lineage (rolled back from) and older ones are removed.
    """
    versions = list_versions(settings)
    served = _served_file(settings, versions)
    if served is None:
        return []
    lineage_names = [r["version_file"] for r in read_publish_log(served)]
    previous = [n for n in lineage_names[:-1] if (settings.versions_dir / n).exists()]
    keep = (
        {served.name, *previous[-settings.keep_versions :]} if settings.keep_versions > 0 else {served.name}
    )
    pruned = []
    for path in versions:
        if path.name not in keep:
            path.unlink(missing_ok=True)
            _wal(path).unlink(missing_ok=True)
            pruned.append(path)
    if pruned:
        _fsync_dir(settings.versions_dir)
        log.info("pruned %d old serving versions", len(pruned))
    return pruned


# --------------------------------------------------------------------------------------- rollback


def rollback(settings: Settings, to_run_id: str | None = None) -> RollbackResult:
    """Serve the previous version again (or the newest version of ``to_run_id``), atomically.

    "Previous" is the version the currently served one replaced (its publish log's second-last
    row), so repeated rollbacks walk back the lineage. Version files are not modified; the event
    is appended to ``versions/HISTORY.jsonl``.
    """
    with _publish_lock(settings):
        _cleanup_leftovers(settings)
        versions = list_versions(settings)
        current = current_version(settings)
        if to_run_id is not None:
            candidates = [p for p in versions if _own_run_id(p) == to_run_id]
            if not candidates:
                raise RollbackError(
                    f"no kept version of run {to_run_id!r}; kept runs: "
                    + ", ".join(_own_run_id(p) or p.name for p in versions)
                )
            target = candidates[-1]
        else:
            if current is None:
                raise RollbackError(f"nothing is published at {settings.serving_path}")
            by_name = {p.name: p for p in versions}
            earlier = [
                by_name[r["version_file"]] for r in current.lineage[:-1] if r["version_file"] in by_name
            ]
            if not earlier:
                raise RollbackError(
                    f"no previous version of run {current.run_id} is kept under {settings.versions_dir}"
                )
            target = earlier[-1]
        rows = read_publish_log(target)
        if not rows:
            raise RollbackError(f"{target.name} has no publish log")
        _point_serving_at(settings, target)
        at = datetime.now(UTC).replace(tzinfo=None)
        _append_history(
            settings,
            {
                "event": "rollback",
                "at": at.isoformat(),
                "run_id": rows[-1]["run_id"],
                "version_file": target.name,
                "from_run_id": current.run_id if current else None,
                "from_version_file": current.version_file if current else None,
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


def _own_run_id(path: Path) -> str | None:
    rows = read_publish_log(path)
    return rows[-1]["run_id"] if rows else None
