"""Content fingerprints of the marts: what lets a publication carry unchanged tables forward.

A fingerprint is computed in SQL, one scan per relation: the row count, the sum (as a 128-bit
integer) of DuckDB's 64-bit ``hash`` of every whole row, and the md5 of the table's shape (column
names, types and order, table and column comments). The sum does not depend on row order and,
unlike an xor, a repeated row does not cancel out. Two relations with the same fingerprint hold
the same rows, columns and descriptions; equal hashes of different content would need a 64-bit
collision that survives the sum, which the pipeline's own data never produces on purpose (this is
a change detector, not a defence against forged tables).

Every version file stores the fingerprints of what was published from the build in
``meta.mart_fingerprints``; the next publication compares the build's fingerprints with them and
carries equal tables over from the previous version instead of copying them again
(:mod:`growthops.serve.publish`). The same function fingerprints the finished file, so the
verification compares the content of every table, carried or copied, with the build's.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import duckdb

from growthops.serve.versions import LOG_SCHEMA, MARTS_SCHEMA
from growthops.sql import literal, quote

FINGERPRINT_TABLE = f"{LOG_SCHEMA}.mart_fingerprints"
FINGERPRINT_DDL = f"""
create table {{db}}.{FINGERPRINT_TABLE} (
    table_name varchar not null,
    row_count bigint not null,
    content_hash varchar not null,
    shape_md5 varchar not null
)
"""
FINGERPRINT_COMMENT = (
    "One row per mart of this version: row count, sum of row hashes and md5 of columns, types and "
    "comments, as computed from the build DB when published (what the next publication compares)."
)

# Shape of every table and view of schema marts: columns in order with types and comments, and the
# table/view comment. One query for all relations.
SHAPES_SQL = """
with cols as (
    select table_name, string_agg(
        column_name || ' ' || data_type || ' ' || coalesce(comment, ''), chr(10) order by column_index
    ) as columns, list(column_name order by column_index) as names
    from duckdb_columns() where database_name = $db and schema_name = $s group by table_name
), rels as (
    select table_name as name, comment from duckdb_tables() where database_name = $db and schema_name = $s
    union all
    select view_name, comment from duckdb_views() where database_name = $db and schema_name = $s
)
select name, md5(coalesce(comment, '') || chr(10) || coalesce(columns, '')), names
from rels left join cols on cols.table_name = rels.name
"""


def row_hash_sql(columns: Collection[str]) -> str:
    """DuckDB's 64-bit hash of the whole row, ``columns`` in table order (what a fingerprint sums)."""
    return f"hash({', '.join(quote(c) for c in columns)})"


@dataclass(frozen=True)
class Fingerprint:
    row_count: int
    content_hash: str
    shape_md5: str


def mart_fingerprints(
    con: duckdb.DuckDBPyConnection, catalog: str, only: Collection[str] | None = None
) -> dict[str, Fingerprint]:
    """The fingerprint of every table and view of schema marts in ``catalog`` (one scan each), or
    of those named in ``only``."""
    shapes = con.execute(SHAPES_SQL, {"db": catalog, "s": MARTS_SCHEMA}).fetchall()
    out = {}
    for name, shape, columns in sorted(shapes):
        if only is not None and name not in only:
            continue
        rel = f"{quote(catalog)}.{MARTS_SCHEMA}.{quote(name)}"
        rows, total = con.execute(
            f"select count(*), coalesce(sum({row_hash_sql(columns)}), 0) from {rel}"
        ).fetchone()
        out[name] = Fingerprint(row_count=int(rows), content_hash=str(total), shape_md5=shape)
    return out


def stored_fingerprints(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, Fingerprint]:
    """``meta.mart_fingerprints`` of a version file (empty for versions published before it existed)."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? and schema_name = ? and table_name = ?",
        [catalog, LOG_SCHEMA, FINGERPRINT_TABLE.split(".")[1]],
    ).fetchone()[0]
    if not exists:
        return {}
    rows = con.execute(
        f"select table_name, row_count, content_hash, shape_md5 from {quote(catalog)}.{FINGERPRINT_TABLE}"
    ).fetchall()
    return {name: Fingerprint(int(n), content, shape) for name, n, content, shape in rows}


def write_fingerprints(
    con: duckdb.DuckDBPyConnection, alias: str, fingerprints: dict[str, Fingerprint]
) -> None:
    """Create ``meta.mart_fingerprints`` in the attached version file ``alias``."""
    con.execute(FINGERPRINT_DDL.format(db=alias))
    con.execute(f"comment on table {alias}.{FINGERPRINT_TABLE} is {literal(FINGERPRINT_COMMENT)}")
    con.executemany(
        f"insert into {alias}.{FINGERPRINT_TABLE} values (?, ?, ?, ?)",
        [[name, fp.row_count, fp.content_hash, fp.shape_md5] for name, fp in sorted(fingerprints.items())],
    )
