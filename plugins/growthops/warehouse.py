"""DuckDB connections to the build warehouse, with the raw tables of the export contracts.

DuckDB allows one writer process; a second writer (or a reader while a writer holds the file)
gets an IOException "Could not set lock on file". That is a *transient* condition: callers retry
it with backoff (:func:`connect`), and Airflow serialises writers with a one-slot pool.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from growthops.contracts import CONTRACTS, LINEAGE_COLUMNS, SourceContract


class WarehouseLocked(RuntimeError):
    """The DuckDB file is held by another process (transient: retry later)."""


def is_lock_error(exc: BaseException) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def connect(
    path: Path | str,
    *,
    read_only: bool = False,
    attempts: int = 5,
    backoff: float = 0.5,
) -> duckdb.DuckDBPyConnection:
    """Open ``path``, retrying lock conflicts with exponential backoff; raise WarehouseLocked."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    delay = backoff
    for attempt in range(1, attempts + 1):
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if not is_lock_error(exc) or attempt == attempts:
                if is_lock_error(exc):
                    raise WarehouseLocked(f"{path} is locked by another process: {exc}") from exc
                raise
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


@contextmanager
def connection(path: Path | str, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (created if missing), held for the ``with`` block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def raw_table_ddl(contract: SourceContract) -> str:
    cols = ",\n    ".join(f'"{c.name}" {c.type}' for c in (*contract.columns, *LINEAGE_COLUMNS))
    return f"create table if not exists {contract.raw_table} (\n    {cols}\n)"


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema ``raw`` and one table per source contract (idempotent)."""
    con.execute("create schema if not exists raw")
    for contract in CONTRACTS.values():
        con.execute(raw_table_ddl(contract))
