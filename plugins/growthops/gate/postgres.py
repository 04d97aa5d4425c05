"""The mart gate on the PostgreSQL target: an in-memory DuckDB connection holding views of the
DuckDB raw tables and exact copies of PostgreSQL's unpublished ``marts_build`` tables, so the same
checks run as on DuckDB (see :mod:`growthops.build.postgres` for the target as a whole)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from growthops.build.postgres import (
    BUILD_SCHEMA,
    MARTS_SCHEMA,
    RAW_SCHEMA,
    PgWarehouseError,
    connection,
    describe,
    duckdb_type,
    schema_tables,
    table_columns,
)
from growthops.config import Settings
from growthops.sql import literal, quote


def copy_table_to_duckdb(pg, duck, schema: str, table: str, target: str, workdir: Path) -> int:
    """Copy PostgreSQL ``schema.table`` into a new DuckDB table ``target``, exactly (types from
    ``information_schema``: numeric(p,s) -> DECIMAL(p,s), float8 -> DOUBLE, ...); rows copied."""
    with pg.cursor() as cur:
        columns = table_columns(cur, schema, table)
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
            f"{literal(name)}: {literal(duckdb_type(dtype, precision, scale))}"
            for name, dtype, precision, scale in columns
        )
        + "}"
    )
    duck.execute(
        f"create table {target} as select * from read_csv({literal(str(path))}, header = true, "
        f"columns = {spec}, quote = '\"', escape = '\"', allow_quoted_nulls = false, auto_detect = false)"
    )
    path.unlink()
    return duck.execute(f"select count(*) from {target}").fetchone()[0]


def gate_connection(settings: Settings, schema: str = BUILD_SCHEMA):
    """An in-memory DuckDB connection for :func:`growthops.gate.mart_gate.run_mart_gate`: schema ``raw``
    = views of the DuckDB build file's raw tables, schema ``marts`` = exact copies of the
    PostgreSQL tables of ``schema`` (default: the unpublished build). The caller closes it."""
    import duckdb

    if not settings.warehouse_path.exists():
        raise PgWarehouseError(f"no build warehouse at {settings.warehouse_path}")
    duck = duckdb.connect()
    try:
        duck.execute("set enable_progress_bar = false")
        duck.execute(f"attach {literal(str(settings.warehouse_path))} as growthops_build (read_only)")
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
                tables = schema_tables(cur, schema)
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
