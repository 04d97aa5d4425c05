"""Serving versions: names, the publish log inside each file, the journal, what BI reads, pruning.

Layout under ``<data>/warehouse/``::

    growthops.duckdb                 the build database (raw, staging, intermediate, marts)
    serving.duckdb                   what BI opens, read-only: an independent copy of one version file
    versions/serving-<UTC stamp>-<run>.duckdb   every published version (read-only)
    versions/HISTORY.jsonl           journal of publications, rollbacks and erasures (append-only)

Version files are independent copies, never hard links of ``serving.duckdb``: damage to the file BI
reads (a truncation, a client that opened it read-write) cannot reach the kept versions, and an
erasure can rewrite each of them (:mod:`growthops.erasure`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from growthops.config import Settings
from growthops.logs import get_logger
from growthops.sql import quote
from growthops.warehouse import file_lock

log = get_logger(__name__)

MARTS_SCHEMA = "marts"
LOG_SCHEMA = "meta"
LOG_TABLE = f"{LOG_SCHEMA}.publish_log"
HISTORY_FILE = "HISTORY.jsonl"
LOCK_FILE = ".publish.lock"
BUILDING_SUFFIX = ".building"
VERSION_RE = re.compile(r"^serving-(?P<stamp>\d{8}T\d{12}Z)-(?P<run>[A-Za-z0-9_.-]+)\.duckdb$")


class PublishError(RuntimeError):
    """The new version failed verification (or there was nothing to publish): nothing was published."""


class RollbackError(RuntimeError):
    """No version to roll back to."""


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

    @classmethod
    def of_file(cls, path: Path) -> ServedVersion | None:
        """The version a serving/version file holds: its publish log's newest row (None when empty)."""
        rows = read_publish_log(path)
        if not rows:
            return None
        own = rows[-1]
        return cls(
            run_id=own["run_id"],
            published_at=own["published_at"],
            source_batches=own["source_batches"],
            row_counts=own["row_counts"],
            version_file=own["version_file"],
            lineage=rows,
        )


@dataclass(frozen=True, kw_only=True)
class Publication:
    """What a publication reports, on either warehouse target (the file or the PostgreSQL schema)."""

    run_id: str
    published_at: datetime
    row_counts: dict[str, int]
    source_batches: list[str]
    previous_run_id: str | None
    seconds: float = 0.0


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


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems cannot fsync a directory
        fsync_file(path)


FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)


def clone_file(src: Path, dst: Path) -> None:
    """Make ``dst`` an independent copy of ``src``: a reflink (copy-on-write, no data copied) where
    the filesystem supports it (btrfs, XFS), else an in-kernel copy. Never a hard link: writing or
    damaging one file cannot reach the other."""
    with open(src, "rb") as source, open(dst, "wb") as target:
        try:
            fcntl.ioctl(target.fileno(), FICLONE, source.fileno())
            return
        except OSError:  # ext4, tmpfs, another filesystem: copy the bytes
            pass
    shutil.copyfile(src, dst)


def wal_path(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


@contextlib.contextmanager
def publish_lock(settings: Settings) -> Iterator[None]:
    """One publisher/rollback/erasure at a time (Airflow's one-slot pool serialises too; this is the floor)."""
    with file_lock(settings.versions_dir / LOCK_FILE):
        yield


def append_history(settings: Settings, event: dict[str, Any]) -> None:
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


def read_log(con: duckdb.DuckDBPyConnection, catalog: str) -> list[dict[str, Any]]:
    exists = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? and schema_name = ? and table_name = ?",
        [catalog, LOG_SCHEMA, "publish_log"],
    ).fetchone()[0]
    if not exists:
        return []
    cur = con.execute(
        f"select run_id, published_at, source_batches, row_counts, source_watermarks, version_file "
        f"from {quote(catalog)}.{LOG_TABLE} order by published_at, run_id"
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
        return read_log(con, con.execute("select current_database()").fetchone()[0])
    finally:
        con.close()


def current_version(settings: Settings) -> ServedVersion | None:
    """The run, time and source batches the serving file holds (None when nothing is published).

    Raises ``duckdb.Error`` when the serving file cannot be read (locked read-write, damaged):
    :func:`served_state` says which, for on-call tools.
    """
    if not settings.serving_path.exists():
        return None
    return ServedVersion.of_file(settings.serving_path)


def served_state(settings: Settings) -> tuple[ServedVersion | None, str | None]:
    """(what BI reads, None) or (None, why the serving file cannot be read); never raises."""
    from growthops.warehouse import is_lock_error, lock_holder

    try:
        return current_version(settings), None
    except duckdb.Error as exc:
        if is_lock_error(exc):
            return None, (
                f"{settings.serving_path} is held read-write by another process (BI must open it read-only)"
                f": {lock_holder(exc)}"
            )
        return None, f"{settings.serving_path} is unreadable ({str(exc).splitlines()[0][:200]})"
    except OSError as exc:
        return None, f"{settings.serving_path} is unreadable ({exc})"


def intact(path: Path) -> bool:
    """True when ``path`` opens read-only and has a publish log (a usable version)."""
    try:
        return bool(read_publish_log(path))
    except (duckdb.Error, OSError):
        return False


def served_file(settings: Settings, versions: list[Path] | None = None) -> Path | None:
    """The kept version file whose copy BI reads (matched by the name in the serving file's own log)."""
    current, _problem = served_state(settings)
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
    served = served_file(settings, versions)
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
            wal_path(path).unlink(missing_ok=True)
            pruned.append(path)
    if pruned:
        fsync_dir(settings.versions_dir)
        log.info("pruned %d old serving versions", len(pruned))
    return pruned


def _own_run_id(path: Path) -> str | None:
    rows = read_publish_log(path)
    return rows[-1]["run_id"] if rows else None
