"""DuckDB connections to the build warehouse, with the raw tables of the export contracts.

DuckDB allows one writer process; a second writer (or a reader while a writer holds the file)
gets an IOException "Could not set lock on file". That is a *transient* condition: callers retry
it with backoff (:func:`connect`), and Airflow serialises writers with a one-slot pool.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from growthops.config import Settings, load_settings
from growthops.contracts import CONTRACTS, LINEAGE_COLUMNS, SourceContract


class WarehouseLocked(RuntimeError):
    """The DuckDB file is held by another process (transient: retry later)."""


def is_lock_error(exc: BaseException) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def lock_holder(exc: BaseException) -> str:
    """Who holds the file, from DuckDB's lock error: ``held by /usr/bin/python3 (PID 1234)``."""
    text = str(exc)
    found = re.search(r"Conflicting lock is held in (\S+)(?: \(PID (\d+)\))?", text)
    if found:
        return f"held by {found.group(1)}" + (f" (PID {found.group(2)})" if found.group(2) else "")
    return "held by another process"


def wait_for_writer(
    path: Path, timeout: float, progress: Callable[[str], None] | None = None, *, every: float = 10.0
) -> None:
    """Wait (up to ``timeout`` seconds, saying so every ``every`` seconds) until ``path`` can be
    opened read-write; raise :class:`WarehouseLocked` naming the holder when it stays held."""
    path = Path(path)
    started = time.monotonic()
    said = None
    while path.exists():
        try:
            duckdb.connect(str(path)).close()
            return
        except duckdb.ConnectionException:  # this process holds it already (another configuration)
            return
        except duckdb.IOException as exc:
            if not is_lock_error(exc):
                raise
            waited = time.monotonic() - started
            holder = lock_holder(exc)
            if waited >= timeout:
                raise WarehouseLocked(
                    f"{path} is still {holder} after waiting {waited:.0f}s: another load, build or "
                    "replay is running. Wait for it to finish (or stop it) and run the command again."
                ) from None
            if progress and (said is None or waited - said >= every):
                progress(f"waiting for {path.name}: {holder}; waited {waited:.0f}s of at most {timeout:.0f}s")
                said = waited
            time.sleep(min(1.0, max(timeout - waited, 0.05)))


def connect(
    path: Path | str,
    *,
    read_only: bool = False,
    attempts: int = 5,
    backoff: float = 0.5,
    settings: Settings | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open ``path``, retrying lock conflicts with exponential backoff; raise WarehouseLocked.

    Every connection gets the configured ``memory_limit`` and spills to a temp directory under the
    data root (``[warehouse] memory_limit``, ``Settings.duckdb_temp_dir``).
    """
    path = Path(path)
    config = duckdb_config(settings)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    delay = backoff
    for attempt in range(1, attempts + 1):
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            if not is_lock_error(exc) or attempt == attempts:
                if is_lock_error(exc):
                    raise WarehouseLocked(
                        f"{path} is locked by another process ({lock_holder(exc)}): another load, build or "
                        "replay is running; "
                        "wait for it to finish and run the command again"
                    ) from exc
                raise
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def duckdb_config(settings: Settings | None = None) -> dict[str, str]:
    """``memory_limit`` and ``temp_directory`` (created) for a DuckDB connection."""
    settings = settings or load_settings()
    settings.duckdb_temp_dir.mkdir(parents=True, exist_ok=True)
    return settings.duckdb_config


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
