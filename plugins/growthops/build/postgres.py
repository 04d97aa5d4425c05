"""PostgreSQL as the dbt warehouse (``[warehouse] target = "postgres"``).

DuckDB stays the ingestion engine: files are read, gated and loaded into the raw tables of the
DuckDB build file exactly as for the embedded target (one code path, one ledger). With the
``postgres`` target three steps are added around dbt:

1. :func:`growthops.build.raw_sync.sync_raw` mirrors schema ``raw`` of the DuckDB build file into schema ``raw`` of
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
from collections.abc import Iterator
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


def table_columns(cur, schema: str, table: str) -> list[tuple[str, str, int | None, int | None]]:
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


def schema_tables(cur, schema: str) -> list[str]:
    cur.execute(
        "select table_name from information_schema.tables "
        "where table_schema = %s and table_type = 'BASE TABLE' order by table_name",
        (schema,),
    )
    return [r[0] for r in cur.fetchall()]


def schema_exists(cur, schema: str) -> bool:
    cur.execute("select count(*) from pg_namespace where nspname = %s", (schema,))
    return cur.fetchone()[0] == 1
