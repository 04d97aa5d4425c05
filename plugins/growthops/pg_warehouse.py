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
import json
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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


# --------------------------------------------------------------------------------------- reading


def copy_table_to_duckdb(pg, duck, schema: str, table: str, target: str, workdir: Path) -> int:
    """Copy PostgreSQL ``schema.table`` into a new DuckDB table ``target``, exactly (types from
    ``information_schema``: numeric(p,s) -> DECIMAL(p,s), float8 -> DOUBLE, ...); rows copied."""
    with pg.cursor() as cur:
        columns = _table_columns(cur, schema, table)
        if not columns:
            raise PgWarehouseError(f"{schema}.{table} does not exist in PostgreSQL")
        path = workdir / f"{schema}.{table}.csv"
        with path.open("wb") as fh:
            # booleans as true/false text, the rest in PostgreSQL's own (lossless) text forms
            select = ", ".join(
                f"{quote(name)}::text as {quote(name)}" if dtype == "boolean" else quote(name)
                for name, dtype, _, _ in columns
            )
            cur.copy_expert(
                f"copy (select {select} from {quote(schema)}.{quote(table)}) to stdout "
                "with (format csv, header true)",
                fh,
            )
    spec = (
        "{"
        + ", ".join(
            f"{_literal(name)}: {_literal(duckdb_type(dtype, precision, scale))}"
            for name, dtype, precision, scale in columns
        )
        + "}"
    )
    duck.execute(
        f"create table {target} as select * from read_csv({_literal(str(path))}, header = true, "
        f"columns = {spec}, quote = '\"', escape = '\"', allow_quoted_nulls = false, auto_detect = false)"
    )
    path.unlink()
    return duck.execute(f"select count(*) from {target}").fetchone()[0]


def gate_connection(settings: Settings, schema: str = BUILD_SCHEMA):
    """An in-memory DuckDB connection for :func:`growthops.mart_gate.run_mart_gate`: schema ``raw``
    = views of the DuckDB build file's raw tables, schema ``marts`` = exact copies of the
    PostgreSQL tables of ``schema`` (default: the unpublished build). The caller closes it."""
    import duckdb

    if not settings.warehouse_path.exists():
        raise PgWarehouseError(f"no build warehouse at {settings.warehouse_path}")
    duck = duckdb.connect()
    try:
        duck.execute("set enable_progress_bar = false")
        duck.execute(f"attach {_literal(str(settings.warehouse_path))} as growthops_build (read_only)")
        duck.execute(f"create schema {RAW_SCHEMA}")
        for (table,) in duck.execute(
            "select table_name from duckdb_tables() where database_name = 'growthops_build' "
            "and schema_name = ?",
            [RAW_SCHEMA],
        ).fetchall():
            duck.execute(
                f"create view {RAW_SCHEMA}.{quote(table)} as "
                f"select * from growthops_build.{RAW_SCHEMA}.{quote(table)}"
            )
        duck.execute(f"create schema {MARTS_SCHEMA}")
        with (
            tempfile.TemporaryDirectory(prefix="pg-gate-", dir=settings.warehouse_dir) as tmp,
            connection(settings, autocommit=True) as pg,
        ):
            with pg.cursor() as cur:
                tables = _tables(cur, schema)
            if not tables:
                raise PgWarehouseError(
                    f"schema {schema} of {describe(settings)} has no tables: run dbt first"
                )
            for table in tables:
                copy_table_to_duckdb(pg, duck, schema, table, f"{MARTS_SCHEMA}.{quote(table)}", Path(tmp))
        return duck
    except BaseException:
        duck.close()
        raise


# --------------------------------------------------------------------------------------- publish


@dataclass(frozen=True)
class PgPublishResult:
    run_id: str
    published_at: datetime
    serving_path: str  # where BI reads: <database> schema marts
    row_counts: dict[str, int]
    source_batches: list[str]
    previous_run_id: str | None
    seconds: float = 0.0


def _source_batches_since(cur, since: datetime | None) -> tuple[list[str], dict[str, Any]]:
    """Raw batches loaded after ``since`` and, per raw table, what PostgreSQL's raw holds."""
    batches: set[str] = set()
    watermarks: dict[str, Any] = {}
    for raw_table in sorted(BATCHED_TABLES):
        schema, table = raw_table.split(".")
        if not _table_columns(cur, schema, table):
            continue
        cur.execute(f"select count(distinct _batch_id), max(_batch_day), max(_loaded_at) from {raw_table}")
        n, max_day, max_loaded = cur.fetchone()
        watermarks[raw_table] = {
            "batches": n,
            "max_batch_day": str(max_day) if max_day else None,
            "max_loaded_at": max_loaded.isoformat() if max_loaded else None,
        }
        if since is None:
            cur.execute(f"select distinct _batch_id from {raw_table}")
        else:
            cur.execute(f"select distinct _batch_id from {raw_table} where _loaded_at > %s", (since,))
        batches.update(r[0] for r in cur.fetchall() if r[0] is not None)
    return sorted(batches), watermarks


def read_publish_log(settings: Settings) -> list[dict[str, Any]]:
    """Rows of ``meta.publish_log``, oldest first (empty when nothing was published)."""
    with connection(settings, autocommit=True) as pg, pg.cursor() as cur:
        if not _table_columns(cur, META_SCHEMA, "publish_log"):
            return []
        cur.execute(
            f"select run_id, published_at, source_batches, row_counts, source_watermarks "
            f"from {PUBLISH_LOG} order by published_at, run_id"
        )
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def publish(settings: Settings, run_id: str, source_batches: list[str] | None = None) -> PgPublishResult:
    """Make the audited ``marts_build`` the ``marts`` BI reads, in one transaction.

    ``marts`` -> ``marts_previous`` -> ``marts_build``, ``marts_build`` -> ``marts``, plus the
    publish-log row: all or nothing. Raises PgWarehouseError (nothing published) when the build
    schema is missing or empty.
    """
    started = time.monotonic()
    with connection(settings) as pg:
        with pg.cursor() as cur:
            cur.execute(f"set local lock_timeout = {_literal(LOCK_TIMEOUT)}")
            cur.execute("select pg_advisory_xact_lock(%s)", (PUBLISH_LOCK,))
            tables = _tables(cur, BUILD_SCHEMA) if _schema_exists(cur, BUILD_SCHEMA) else []
            if not tables:
                raise PgWarehouseError(
                    f"schema {BUILD_SCHEMA} of {describe(settings)} has no tables: nothing to publish"
                )
            counts = {}
            for table in tables:
                cur.execute(f"select count(*) from {BUILD_SCHEMA}.{quote(table)}")
                counts[table] = cur.fetchone()[0]
            cur.execute(f"create schema if not exists {META_SCHEMA}")
            cur.execute(PUBLISH_LOG_DDL)
            cur.execute(f"select run_id, published_at from {PUBLISH_LOG} order by published_at desc limit 1")
            previous = cur.fetchone()
            since = previous[1] if previous else None
            derived, watermarks = _source_batches_since(cur, since)
            batches = sorted(set(source_batches)) if source_batches is not None else derived
            published_at = datetime.now(UTC).replace(tzinfo=None)
            if previous and published_at <= previous[1]:  # clock stepped back: keep the order
                published_at = previous[1] + timedelta(microseconds=1)

            had_marts = _schema_exists(cur, MARTS_SCHEMA)
            if had_marts:
                cur.execute(f"alter schema {MARTS_SCHEMA} rename to {PREVIOUS_SCHEMA}")
            cur.execute(f"alter schema {BUILD_SCHEMA} rename to {MARTS_SCHEMA}")
            if had_marts:
                cur.execute(f"alter schema {PREVIOUS_SCHEMA} rename to {BUILD_SCHEMA}")
            else:
                cur.execute(f"create schema {BUILD_SCHEMA}")
            cur.execute(
                f"insert into {PUBLISH_LOG} values (%s, %s, %s, %s, %s)",
                (run_id, published_at, batches, json.dumps(counts, sort_keys=True), json.dumps(watermarks)),
            )
            # verify inside the transaction: BI would read exactly the audited tables and rows
            published = {}
            for table in _tables(cur, MARTS_SCHEMA):
                cur.execute(f"select count(*) from {MARTS_SCHEMA}.{quote(table)}")
                published[table] = cur.fetchone()[0]
            if published != counts:
                raise PgWarehouseError(f"after the swap marts holds {published}, the build had {counts}")
        pg.commit()
    seconds = time.monotonic() - started
    where = f"{describe(settings)} schema {MARTS_SCHEMA}"
    log.info("published run %s to %s (%s) in %.2fs", run_id, where, counts, seconds)
    return PgPublishResult(
        run_id=run_id,
        published_at=published_at,
        serving_path=where,
        row_counts=counts,
        source_batches=batches,
        previous_run_id=previous[0] if previous else None,
        seconds=seconds,
    )
