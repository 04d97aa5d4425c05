"""The raw mirror of the PostgreSQL target: schema ``raw`` of the DuckDB build file copied into
schema ``raw`` of PostgreSQL in ONE transaction, batch by batch (see :mod:`growthops.build.postgres`)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from growthops.build.postgres import (
    BATCHED_TABLES,
    LOCK_TIMEOUT,
    RAW_SCHEMA,
    SYNC_LOCK,
    SYNC_TABLE,
    SYNC_TABLE_DDL,
    PgWarehouseError,
    connection,
    describe,
    pg_type,
    table_columns,
)
from growthops.config import Settings
from growthops.logs import get_logger
from growthops.sql import literal, quote

log = get_logger(__name__)


@dataclass
class TableSync:
    table: str
    batches_copied: int = 0
    batches_deleted: int = 0
    rows_copied: int = 0
    rows_deleted: int = 0
    replaced_whole: bool = False


@dataclass
class SyncResult:
    database: str
    tables: dict[str, TableSync] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows_copied(self) -> int:
        return sum(t.rows_copied for t in self.tables.values())

    def lines(self) -> list[str]:
        out = []
        for t in self.tables.values():
            if t.replaced_whole:
                out.append(f"{t.table}: replaced ({t.rows_copied:,} rows)")
            else:
                out.append(
                    f"{t.table}: +{t.batches_copied} batch(es) ({t.rows_copied:,} rows), "
                    f"-{t.batches_deleted} batch(es) ({t.rows_deleted:,} rows)"
                )
        return out

    def summary(self) -> str:
        return f"raw synced to {self.database} in {self.seconds:.1f}s: " + "; ".join(self.lines())


def _duck_raw_tables(duck) -> dict[str, list[tuple[str, str]]]:
    rows = duck.execute(
        """
        select table_name, column_name, data_type from duckdb_columns()
        where database_name = current_database() and schema_name = ?
        order by table_name, column_index
        """,
        [RAW_SCHEMA],
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return out


def _ensure_pg_table(cur, table: str, columns: list[tuple[str, str]]) -> bool:
    """Create ``raw.<table>`` like the DuckDB one; recreate it if its columns differ. True when
    the table is new (or was recreated): everything must be copied."""
    wanted = [(name, pg_type(dtype)) for name, dtype in columns]
    existing = table_columns(cur, RAW_SCHEMA, table)
    if existing:
        cur.execute(
            """
            select a.attname, format_type(a.atttypid, a.atttypmod)
            from pg_attribute a join pg_class c on c.oid = a.attrelid
            join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped
            order by a.attnum
            """,
            (RAW_SCHEMA, table),
        )
        have = [(name, _normal_pg_type(t)) for name, t in cur.fetchall()]
        if have == [(n, _normal_pg_type(t)) for n, t in wanted]:
            return False
        # the staging views on it go too (cascade): the next dbt run creates them again
        log.warning("raw.%s changed shape (%s -> %s): recreating it in PostgreSQL", table, have, wanted)
        cur.execute(f"drop table {RAW_SCHEMA}.{quote(table)} cascade")
    cols = ",\n    ".join(f"{quote(n)} {t}" for n, t in wanted)
    cur.execute(f"create table {RAW_SCHEMA}.{quote(table)} (\n    {cols}\n)")
    if any(n == "_batch_id" for n, _ in wanted):
        cur.execute(f"create index on {RAW_SCHEMA}.{quote(table)} (_batch_id)")
    return True


def _normal_pg_type(t: str) -> str:
    t = t.lower().replace(" ", "")
    return {
        "timestampwithouttimezone": "timestamp",
        "timestampwithtimezone": "timestamptz",
        "charactervarying": "varchar",
    }.get(t, t)


def _copy_to_pg(duck, cur, select_sql: str, table: str, columns: list[str], workdir: Path) -> int:
    """Write ``select_sql`` (DuckDB) as CSV, then ``COPY raw.<table> FROM STDIN``; rows copied."""
    path = workdir / f"{table}.csv"
    # NULL = empty unquoted field, empty string = "" (DuckDB quotes it), as PostgreSQL's CSV reads
    duck.execute(f"copy ({select_sql}) to {literal(str(path))} (format csv, header true, quote '\"')")
    column_list = ", ".join(quote(c) for c in columns)
    with path.open("rb") as fh:
        cur.copy_expert(
            f"copy {RAW_SCHEMA}.{quote(table)} ({column_list}) from stdin with (format csv, header true)", fh
        )
    copied = cur.rowcount
    path.unlink()
    return copied


def _sync_batched(duck, cur, table: str, columns: list[str], workdir: Path, now: datetime) -> TableSync:
    qualified = f"{RAW_SCHEMA}.{table}"
    result = TableSync(table=qualified)
    in_duck = {
        batch: (rows, loaded)
        for batch, rows, loaded in duck.execute(
            f"select _batch_id, count(*), max(_loaded_at) from {RAW_SCHEMA}.{quote(table)} group by 1"
        ).fetchall()
    }
    if None in in_duck:
        raise PgWarehouseError(f"{qualified} has rows without _batch_id in DuckDB: cannot mirror them")
    cur.execute(
        f"select batch_id, row_count, max_loaded_at from {SYNC_TABLE} where table_name = %s", (qualified,)
    )
    in_pg = {batch: (rows, loaded) for batch, rows, loaded in cur.fetchall()}
    stale = sorted(b for b, sig in in_pg.items() if in_duck.get(b) != sig)
    new = sorted(b for b, sig in in_duck.items() if in_pg.get(b) != sig)
    if stale:
        cur.execute(f"delete from {RAW_SCHEMA}.{quote(table)} where _batch_id = any(%s)", (stale,))
        result.rows_deleted = cur.rowcount
        cur.execute(
            f"delete from {SYNC_TABLE} where table_name = %s and batch_id = any(%s)", (qualified, stale)
        )
        result.batches_deleted = len(stale)
    if new:
        expected = sum(in_duck[b][0] for b in new)
        duck.execute(
            "create or replace temp table growthops_sync_batches as select unnest(?::varchar[]) as b", [new]
        )
        select = ", ".join(quote(c) for c in columns)
        copied = _copy_to_pg(
            duck,
            cur,
            f"select {select} from {RAW_SCHEMA}.{quote(table)} "
            f"where _batch_id in (select b from growthops_sync_batches)",
            table,
            columns,
            workdir,
        )
        if copied != expected:
            raise PgWarehouseError(f"{qualified}: copied {copied} rows to PostgreSQL, DuckDB has {expected}")
        cur.executemany(
            f"insert into {SYNC_TABLE} values (%s, %s, %s, %s, %s)",
            [(qualified, b, in_duck[b][0], in_duck[b][1], now) for b in new],
        )
        result.batches_copied = len(new)
        result.rows_copied = copied
    if stale or new:
        cur.execute(f"analyze {RAW_SCHEMA}.{quote(table)}")
    return result


def _sync_whole(duck, cur, table: str, columns: list[str], workdir: Path) -> TableSync:
    result = TableSync(table=f"{RAW_SCHEMA}.{table}", replaced_whole=True)
    cur.execute(f"delete from {RAW_SCHEMA}.{quote(table)}")
    result.rows_deleted = cur.rowcount
    select = ", ".join(quote(c) for c in columns)
    result.rows_copied = _copy_to_pg(
        duck, cur, f"select {select} from {RAW_SCHEMA}.{quote(table)}", table, columns, workdir
    )
    return result


def sync_raw(settings: Settings, duck=None) -> SyncResult:
    """Mirror schema ``raw`` of the DuckDB build file into PostgreSQL, in one transaction.

    ``duck``: an open connection to the build file (default: open it read-only). Idempotent: a
    second run with no new loads copies nothing.
    """
    from growthops.warehouse import connect as duck_connect

    started = time.monotonic()
    result = SyncResult(database=describe(settings))
    own = duck is None
    if own:
        if not settings.warehouse_path.exists():
            raise PgWarehouseError(f"no build warehouse at {settings.warehouse_path}: load exports first")
        duck = duck_connect(settings.warehouse_path, read_only=True)
    try:
        duck.execute("set enable_progress_bar = false")
        tables = _duck_raw_tables(duck)
        if not tables:
            raise PgWarehouseError(f"{settings.warehouse_path} has no raw tables: load exports first")
        now = datetime.now(UTC).replace(tzinfo=None)
        settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.TemporaryDirectory(prefix="pg-sync-", dir=settings.warehouse_dir) as tmp,
            connection(settings) as pg,
        ):
            with pg.cursor() as cur:
                cur.execute(f"set local lock_timeout = {literal(LOCK_TIMEOUT)}")
                cur.execute("select pg_advisory_xact_lock(%s)", (SYNC_LOCK,))
                cur.execute(f"create schema if not exists {RAW_SCHEMA}")
                cur.execute(SYNC_TABLE_DDL)
                for table, cols in sorted(tables.items()):
                    names = [c for c, _ in cols]
                    qualified = f"{RAW_SCHEMA}.{table}"
                    if _ensure_pg_table(cur, table, cols):  # new or recreated: copy everything
                        cur.execute(f"delete from {SYNC_TABLE} where table_name = %s", (qualified,))
                    if qualified in BATCHED_TABLES:
                        result.tables[qualified] = _sync_batched(duck, cur, table, names, Path(tmp), now)
                    else:
                        result.tables[qualified] = _sync_whole(duck, cur, table, names, Path(tmp))
            pg.commit()
    finally:
        if own:
            duck.close()
    result.seconds = time.monotonic() - started
    log.info("%s", result.summary())
    return result
