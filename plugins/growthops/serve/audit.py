"""What a publication checks besides the copy itself: which marts and raw batches the build DB
holds, that it is not missing history the served version had (a lost or emptied build database),
and how a failed write (full disk, I/O error, DuckDB failure) is said."""

from __future__ import annotations

import errno
from datetime import datetime
from typing import Any

import duckdb

from growthops.config import Settings
from growthops.contracts import CONTRACTS
from growthops.serve.versions import MARTS_SCHEMA, PublishError
from growthops.sql import quote
from growthops.warehouse import is_lock_error


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
        rel = f"{quote(catalog)}.{quote(schema)}.{quote(table)}"
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


WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EFBIG}


def _as_publish_error(exc: BaseException, settings: Settings) -> BaseException:
    """A full disk, an I/O error or a DuckDB failure while writing the new version: nothing was
    published (serving untouched) - a PublishError that says so; anything else unchanged."""
    if isinstance(exc, duckdb.Error) and not is_lock_error(exc):
        what = str(exc).splitlines()[0][:300]
    elif isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
        what = f"{exc.strerror or exc} ({errno.errorcode.get(exc.errno, exc.errno)})"
    else:
        return exc
    hint = " — is the disk full?" if "space" in what.lower() or "ENOSPC" in what else ""
    return PublishError(
        f"could not write the new serving version (warehouse/versions): {what}{hint}. "
        "Nothing was published: BI still reads the previous version; free space or fix the disk, then re-run"
    )


def _refuse_lost_build(con: duckdb.DuckDBPyConnection, catalog: str, previous: dict[str, Any] | None) -> None:
    """Refuse to publish from a build DB that holds less raw history than the version BI reads (its
    publish log) or than its own load ledger says was loaded (deleted, or emptied and recreated):
    the marts would silently lose days (:mod:`growthops.ingest.lost_build`)."""
    from growthops.ingest.lost_build import findings

    lost = findings(con, (previous or {}).get("source_watermarks") or {})
    if lost:
        raise PublishError(
            "the build database holds less raw history than the version BI reads or its load ledger "
            f"records (was it deleted or emptied?): {'; '.join(lost)}. Nothing was published. Rebuild it "
            "from landing with `GROWTHOPS_INGEST_LOST_BUILD_DATABASE=rebuild growthops backfill --start "
            "<first export day> --end <last export day>` (the exports are still in landing), or restore "
            "the build database"
        )
