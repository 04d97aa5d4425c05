"""PostgreSQL as the dbt warehouse (``[warehouse] target = "postgres"``).

DuckDB stays the ingestion engine: files are read, gated and loaded into the raw tables of the
DuckDB build file exactly as for the embedded target (one code path, one ledger). With the
``postgres`` target three steps are added around dbt:

1. :func:`sync_raw` mirrors schema ``raw`` of the DuckDB build file into schema ``raw`` of
   PostgreSQL, in ONE PostgreSQL transaction: per raw source table, per load batch. A batch is
   known by ``(_batch_id, rows, newest _loaded_at)``; batches PostgreSQL holds that DuckDB no longer
   holds (superseded or deleted) are deleted, batches new or changed in DuckDB are copied (DuckDB
   writes CSV, ``COPY ... FROM STDIN``), and the copied row count is checked against DuckDB's
   before the commit. ``raw.load_ledger`` and ``raw.rejects`` (small) are replaced whole.
   ``raw._synced_batches`` records what was copied. A reader of PostgreSQL sees the raw tables
   before or after a sync, never half of one.
2. dbt builds with ``--target postgres``; the marts go to schema ``marts_build`` (the project's
   ``generate_schema_name``), never to ``marts`` that BI reads.
3. The mart gate (:func:`gate_connection`) runs the same checks as for DuckDB on an in-memory
   DuckDB connection holding views of the DuckDB raw tables (the source of truth the mirror was
   copied from) and exact copies of the PostgreSQL ``marts_build`` tables. :func:`publish` then
   swaps ``marts_build`` and ``marts`` in ONE transaction (``ALTER SCHEMA ... RENAME`` x3) and
   appends ``meta.publish_log``: every statement a BI reader runs sees the whole old or the whole
   new marts. The previous marts become ``marts_build``: the next dbt run rebuilds its tables and
   updates ``fct_orders`` incrementally from them.

Connections: ``[pg]`` host/port/user/password/dbname of ``config/growthops.toml``, overridable
by ``GROWTHOPS_PG_*`` (the same variables ``dbt_project/profiles.yml`` reads).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from growthops.config import Settings
from growthops.contracts import CONTRACTS
from growthops.logs import get_logger

log = get_logger(__name__)

RAW_SCHEMA = "raw"
MARTS_SCHEMA = "marts"
BUILD_SCHEMA = "marts_build"  # dbt var postgres_marts_build_schema (generate_schema_name)
PREVIOUS_SCHEMA = "marts_previous"  # only inside the swap transaction
META_SCHEMA = "meta"
SYNC_TABLE = f"{RAW_SCHEMA}._synced_batches"
PUBLISH_LOG = f"{META_SCHEMA}.publish_log"
# pg_advisory_xact_lock keys: one raw sync and one publication at a time per database
SYNC_LOCK = 7_310_001
PUBLISH_LOCK = 7_310_002
LOCK_TIMEOUT = "60s"

BATCHED_TABLES = frozenset(c.raw_table for c in CONTRACTS.values())

PUBLISH_LOG_DDL = f"""
create table if not exists {PUBLISH_LOG} (
    run_id text not null,
    published_at timestamp not null,
    source_batches text[] not null,
    row_counts jsonb not null,
    source_watermarks jsonb
)
"""
SYNC_TABLE_DDL = f"""
create table if not exists {SYNC_TABLE} (
    table_name text not null,
    batch_id text not null,
    row_count bigint not null,
    max_loaded_at timestamp,
    synced_at timestamp not null,
    primary key (table_name, batch_id)
)
"""


class PgWarehouseError(RuntimeError):
    """The PostgreSQL warehouse is not in a state to sync or publish (not transient)."""


# --------------------------------------------------------------------------------------- helpers


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def pg_type(duckdb_type: str) -> str:
    """The PostgreSQL type of a DuckDB column type of the raw tables (exact, no widening)."""
    t = duckdb_type.strip().upper()
    simple = {
        "VARCHAR": "varchar",
        "DATE": "date",
        "TIMESTAMP": "timestamp",
        "TIMESTAMP WITH TIME ZONE": "timestamptz",
        "BIGINT": "bigint",
        "INTEGER": "integer",
        "SMALLINT": "smallint",
        "BOOLEAN": "boolean",
        "DOUBLE": "double precision",
        "FLOAT": "real",
        "JSON": "jsonb",
    }
    if t in simple:
        return simple[t]
    if t.startswith("DECIMAL("):
        return "numeric" + t[len("DECIMAL") :].replace(" ", "")
    raise PgWarehouseError(f"no PostgreSQL type for DuckDB type {duckdb_type!r}")


def duckdb_type(data_type: str, precision: int | None, scale: int | None) -> str:
    """The DuckDB type that holds a PostgreSQL column (``information_schema.columns``) exactly."""
    t = data_type.lower()
    if t == "numeric":
        if precision is None:
            raise PgWarehouseError("unconstrained numeric column: declare its precision and scale")
        return f"DECIMAL({precision},{scale or 0})"
    simple = {
        "text": "VARCHAR",
        "character varying": "VARCHAR",
        "character": "VARCHAR",
        "date": "DATE",
        "timestamp without time zone": "TIMESTAMP",
        "timestamp with time zone": "TIMESTAMPTZ",
        "bigint": "BIGINT",
        "integer": "INTEGER",
        "smallint": "SMALLINT",
        "boolean": "BOOLEAN",
        "double precision": "DOUBLE",
        "real": "FLOAT",
        "jsonb": "JSON",
        "json": "JSON",
    }
    if t not in simple:
        raise PgWarehouseError(f"no DuckDB type for PostgreSQL type {data_type!r}")
    return simple[t]


def describe(settings: Settings) -> str:
    """Where the warehouse is, for logs and reports (no password)."""
    pg = settings.pg
    return f"postgresql://{pg.user}@{pg.host}:{pg.port}/{pg.dbname}"


def connect(settings: Settings, *, autocommit: bool = False):
    """A psycopg2 connection to the configured database (``[pg]`` / ``GROWTHOPS_PG_*``)."""
    import psycopg2

    pg = settings.pg
    con = psycopg2.connect(
        host=pg.host,
        port=pg.port,
        user=pg.user,
        password=pg.password or None,
        dbname=pg.dbname,
        application_name="growthops",
        connect_timeout=10,
    )
    con.autocommit = autocommit
    return con


@contextlib.contextmanager
def connection(settings: Settings, *, autocommit: bool = False) -> Iterator[Any]:
    con = connect(settings, autocommit=autocommit)
    try:
        yield con
    finally:
        con.close()


def transient_errors() -> tuple[type[BaseException], ...]:
    """PostgreSQL errors a retry can fix: the server is unreachable, a lock timed out."""
    try:
        import psycopg2
        import psycopg2.errors
    except ImportError:
        return ()
    return (psycopg2.OperationalError, psycopg2.errors.LockNotAvailable)


def _table_columns(cur, schema: str, table: str) -> list[tuple[str, str, int | None, int | None]]:
    cur.execute(
        """
        select column_name, data_type, numeric_precision, numeric_scale
        from information_schema.columns
        where table_schema = %s and table_name = %s
        order by ordinal_position
        """,
        (schema, table),
    )
    return cur.fetchall()


def _tables(cur, schema: str) -> list[str]:
    cur.execute(
        "select table_name from information_schema.tables "
        "where table_schema = %s and table_type = 'BASE TABLE' order by table_name",
        (schema,),
    )
    return [r[0] for r in cur.fetchall()]


def _schema_exists(cur, schema: str) -> bool:
    cur.execute("select count(*) from pg_namespace where nspname = %s", (schema,))
    return cur.fetchone()[0] == 1


# --------------------------------------------------------------------------------------- raw sync


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
    existing = _table_columns(cur, RAW_SCHEMA, table)
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
    duck.execute(f"copy ({select_sql}) to {_literal(str(path))} (format csv, header true, quote '\"')")
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
                cur.execute(f"set local lock_timeout = {_literal(LOCK_TIMEOUT)}")
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
