"""Erasure requests (SPEC §2, crm ``is_deleted = true``): the contact's PII removed everywhere.

"Everywhere" is every DuckDB file under the data root: the raw and dbt tables of the build
database and every serving version file (kept ones and the one BI reads). The contact itself
stays (counted anonymously): only PII columns are cleared.

- **PII columns**: ``email`` (clear, raw) and ``email_sha256`` (staging onwards), in any table that
  also has ``contact_id``; and the raw records of rejected crm rows that quote the email.
- **Who is erased**: every contact that ever had an erasure row, for good. The list is kept in the
  append-only journal ``<data>/warehouse/erasures.jsonl`` (contact id, request time, batch), which
  needs no database to read, so a rollback can re-apply every erasure even while the build
  database is busy or lost; and in the audit table ``raw.erasure_log`` of the build database (one
  row per contact and place scrubbed: ``raw.crm_contacts``, a version file, ``serving.duckdb``).
- **Files BI may read** are never written in place: a version file is rewritten as a fresh copy
  without the PII (no old page of it survives in the new file) and renamed over the old name, so a
  reader that has the old file open keeps a consistent view until it reopens.

This module is a root module: the ingest stage calls :func:`after_crm_load`, the serve stage calls
:func:`scrub_file` (publication, rollback); it imports no stage package. Which tables hold PII and
how one catalog is cleared is :mod:`growthops.pii`.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from growthops.config import Settings
from growthops.logs import get_logger
from growthops.pii import dirty_rows, pii_tables, scrub_by_contact
from growthops.sql import literal, quote

log = get_logger(__name__)

AUDIT_TABLE = "raw.erasure_log"
JOURNAL = "erasures.jsonl"
SCRUB_SUFFIX = ".erasing"

AUDIT_DDL = f"""
create table if not exists {AUDIT_TABLE} (
    contact_id   varchar not null,
    requested_at timestamp,
    batch_id     varchar,
    scrubbed_at  timestamp not null,
    location     varchar not null,
    rows_scrubbed bigint not null
)
"""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ------------------------------------------------------------------------------ the journal


def journal_path(settings: Settings) -> Path:
    return settings.warehouse_dir / JOURNAL


def erased_contacts(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every contact ever erased: id -> first journal entry (request time, batch)."""
    path = journal_path(settings)
    if not path.exists():
        return {}
    out: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:  # a torn last line after a crash
            continue
        out.setdefault(str(entry["contact_id"]), entry)
    return out


def _journal_append(settings: Settings, entries: list[dict[str, Any]]) -> None:
    if not entries:
        return
    path = journal_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        for entry in entries:
            fh.write(json.dumps(entry, default=str, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


# ------------------------------------------------------------------------------ the build database


def _new_erasures(con: duckdb.DuckDBPyConnection, known: dict[str, Any]) -> list[dict[str, Any]]:
    rows = con.execute(
        """
        select trim(contact_id), min(updated_at), arg_min(_batch_id, updated_at)
        from raw.crm_contacts where is_deleted group by 1
        """
    ).fetchall()
    recorded = _now().isoformat()
    return [
        {"contact_id": cid, "requested_at": str(at), "batch_id": batch, "recorded_at": recorded}
        for cid, at, batch in rows
        if cid not in known
    ]


def after_crm_load(settings: Settings, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """After a crm batch committed: journal new erasures, scrub the build DB and every serving file.

    Idempotent and cheap when nothing is to do (one query per PII table). Returns what was done.
    """
    con.execute(AUDIT_DDL)
    known = erased_contacts(settings)
    new = _new_erasures(con, known)
    _journal_append(settings, new)
    erased = {**known, **{e["contact_id"]: e for e in new}}
    if not erased:
        return {}
    ids = sorted(erased)
    catalog = con.execute("select current_database()").fetchone()[0]
    con.execute("begin transaction")
    try:
        by_contact = scrub_by_contact(con, catalog, ids)
        _audit(con, erased, {f"build: {t}": rows for t, rows in by_contact.items()})
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    scrubbed = {t: sum(rows.values()) for t, rows in by_contact.items()}
    files_by_contact = scrub_published(settings, ids)
    _audit(con, erased, {f"serving: {name}": rows for name, rows in files_by_contact.items()})
    files = {name: sum(rows.values()) for name, rows in files_by_contact.items()}
    if new or scrubbed or files:
        log.warning(
            "erasure: %d contact(s) erased (%d new); scrubbed %s",
            len(ids),
            len(new),
            {**scrubbed, **files} or "nothing left to scrub",
        )
    return {"erased": ids, "new": [e["contact_id"] for e in new], "build": scrubbed, "files": files}


def _audit(
    con: duckdb.DuckDBPyConnection, erased: dict[str, dict[str, Any]], where: dict[str, Counter[str]]
) -> None:
    """One audit row per contact and place scrubbed, with the rows cleared there; one statement."""
    rows = [
        (cid, erased.get(cid, {}).get("requested_at"), erased.get(cid, {}).get("batch_id"), location, n)
        for location, counts in sorted(where.items())
        for cid, n in sorted(counts.items())
    ]
    if not rows:
        return
    cids, requested, batches, locations, counts = (list(column) for column in zip(*rows, strict=True))
    con.execute(
        f"""
        insert into {AUDIT_TABLE}
        select unnest($cid), try_cast(unnest($requested) as timestamp), unnest($batch), $at,
               unnest($location), unnest($rows)
        """,
        {
            "cid": cids,
            "requested": requested,
            "batch": batches,
            "at": _now(),
            "location": locations,
            "rows": counts,
        },
    )


# ------------------------------------------------------------------------------ serving files


def scrub_published(settings: Settings, ids: list[str]) -> dict[str, Counter[str]]:
    """Scrub every serving version file and ``serving.duckdb`` (under the publication lock): per
    file rewritten, the rows cleared per contact."""
    from growthops.warehouse import file_lock

    versions = settings.versions_dir
    files = sorted(p for p in versions.glob("serving-*.duckdb")) if versions.is_dir() else []
    if settings.serving_path.exists():
        files.append(settings.serving_path)
    if not files:
        return {}
    done: dict[str, Counter[str]] = {}
    with file_lock(versions / ".publish.lock"):
        for path in files:
            try:
                n = scrub_file_by_contact(path, ids)
            except duckdb.Error as exc:
                log.error("erasure: could not scrub %s: %s (it will be retried)", path.name, exc)
                continue
            if n:
                done[path.name] = n
    return done


def scrub_file(path: Path, ids: Iterable[str]) -> int:
    """Rewrite ``path`` as a fresh copy without the PII of ``ids``; rows cleared (0: untouched)."""
    return sum(scrub_file_by_contact(path, ids).values())


def scrub_file_by_contact(path: Path, ids: Iterable[str]) -> Counter[str]:
    """:func:`scrub_file`, with the rows cleared per contact (empty: the file was not touched)."""
    ids = sorted(set(ids))
    if not ids or not path.exists():
        return Counter()
    tmp = path.with_name(path.name + SCRUB_SUFFIX)
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(":memory:")
    try:
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach {literal(str(path))} as src (read_only)")
        by_contact = dirty_rows(con, "src", ids)
        if not by_contact:
            return by_contact
        con.execute(f"attach {literal(str(tmp))} as dst")
        _copy_scrubbed(con, ids)
        con.execute("checkpoint dst")
        con.execute("detach dst")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
        raise
    con.close()
    mode = path.stat().st_mode & 0o777
    _fsync(tmp)
    tmp.chmod(mode)
    tmp.replace(path)
    _fsync(path.parent)
    log.warning("erasure: rewrote %s without the PII of %d row(s)", path.name, sum(by_contact.values()))
    return by_contact


def _copy_scrubbed(con: duckdb.DuckDBPyConnection, ids: list[str]) -> None:
    pii = {(s, t): cols for s, t, cols in pii_tables(con, "src")}
    tables = con.execute(
        "select schema_name, table_name, comment from duckdb_tables() where database_name = 'src' order by all"
    ).fetchall()
    for schema in sorted({s for s, _, _ in tables}):
        con.execute(f"create schema if not exists dst.{quote(schema)}")
    for schema, table, comment in tables:
        columns = con.execute(
            "select column_name, comment from duckdb_columns() where database_name = 'src' "
            "and schema_name = ? and table_name = ? order by column_index",
            [schema, table],
        ).fetchall()
        cleared = pii.get((schema, table), [])
        select = ", ".join(
            f"case when trim(contact_id) in (select trim(unnest($ids::varchar[]))) then null else {quote(c)} end as {quote(c)}"
            if c in cleared
            else quote(c)
            for c, _ in columns
        )
        dst = f"dst.{quote(schema)}.{quote(table)}"
        sql = f"create table {dst} as select {select} from src.{quote(schema)}.{quote(table)}"
        con.execute(sql, {"ids": ids} if cleared else None)
        if comment:
            con.execute(f"comment on table {dst} is {literal(comment)}")
        for column, col_comment in columns:
            if col_comment:
                con.execute(f"comment on column {dst}.{quote(column)} is {literal(col_comment)}")


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems cannot fsync a directory
        pass
    finally:
        os.close(fd)
