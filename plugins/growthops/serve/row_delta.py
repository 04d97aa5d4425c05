"""Row-level delta of a large mart: the new version keeps the previous version's rows and only the
changed rows are written (DECISIONLOG 67).

A daily build changes a few thousand of ``fct_orders``' millions of rows, yet the as-of date moves
every day, so no mart is equal to the previous version's and every one was copied again: at 10M
orders the copy of ``fct_orders`` alone took 7.3 s of a 9.9 to 10.5 s publication. For a mart with the
previous version's columns, types and comments (its shape) and at least :data:`MIN_ROWS` rows,
:func:`apply_row_delta` works in the file copy of that version instead:

1. the delta: the hash of every whole row (the fingerprint's row hash) on both sides, one full
   outer join; a row hash found on one side only is a row added or removed;
2. when the delta plus the rows earlier deltas left deleted but not yet vacuumed in the file is
   more than :data:`MAX_SHARE` of the table, nothing is written: the caller copies the mart whole
   (which also bounds how much a version file grows over many daily deltas);
3. else the removed rows are deleted and the added rows inserted from the build.

Rows are told apart by their hash alone, so a mart holding a whole row twice can come out with
the wrong count of it: the caller verifies the content fingerprint of every mart written this
way against the build's, and a mismatch writes the version again with every mart copied.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from growthops.serve.fingerprint import row_hash_sql
from growthops.serve.versions import MARTS_SCHEMA
from growthops.sql import quote

MIN_ROWS = 100_000  # a smaller mart copies in well under a second: it is always copied whole
MAX_SHARE = 0.2  # changed (plus dead) rows above this share of the mart: copy it whole instead
DELTA_TABLE = "publish_row_delta"  # temp table of the delta's row hashes


@dataclass(frozen=True)
class RowDelta:
    """What :func:`apply_row_delta` did to one mart: rows added and removed, or ``applied`` False
    (too many changed rows; nothing written, the caller copies the mart whole)."""

    applied: bool
    added: int
    removed: int
    dead: int  # rows deleted in the file by earlier deltas and not yet vacuumed


def apply_row_delta(
    con: duckdb.DuckDBPyConnection, catalog: str, alias: str, name: str, build_rows: int
) -> RowDelta:
    """Turn mart ``name`` of the attached version file ``alias`` (a copy of the previous version,
    same shape as the build's) into the build's mart in ``catalog`` by its changed rows only."""
    src = f"{quote(catalog)}.{MARTS_SCHEMA}.{quote(name)}"
    dst = f"{alias}.{MARTS_SCHEMA}.{quote(name)}"
    columns = [
        c
        for (c,) in con.execute(
            "select column_name from duckdb_columns() where database_name = ? and schema_name = ? "
            "and table_name = ? order by column_index",
            [catalog, MARTS_SCHEMA, name],
        ).fetchall()
    ]
    (stored,) = con.execute(
        "select any_value(estimated_size) from duckdb_tables() where database_name = ? and schema_name = ? "
        "and table_name = ?",
        [alias, MARTS_SCHEMA, name],
    ).fetchone()
    if stored is None:  # not in the previous version's file after all: copy it whole
        return RowDelta(applied=False, added=0, removed=0, dead=0)
    row_hash = row_hash_sql(columns)
    try:
        con.execute(
            f"""
            create or replace temp table {DELTA_TABLE} as
            with build as (select {row_hash} as h from {src}),
                 kept as (select {row_hash} as h from {dst})
            select coalesce(build.h, kept.h) as h, build.h is not null as added
            from build full outer join kept on build.h = kept.h
            where build.h is null or kept.h is null
            """
        )
        added, removed = con.execute(
            f"select count(*) filter (where added), count(*) filter (where not added) from {DELTA_TABLE}"
        ).fetchone()
        (live,) = con.execute(f"select count(*) from {dst}").fetchone()
        dead = max(int(stored) - int(live), 0)
        if added + removed + dead > MAX_SHARE * max(build_rows, 1):
            return RowDelta(applied=False, added=added, removed=removed, dead=dead)
        con.execute(f"delete from {dst} where {row_hash} in (select h from {DELTA_TABLE} where not added)")
        con.execute(
            f"insert into {dst} select * from {src} where {row_hash} in (select h from {DELTA_TABLE} where added)"
        )
        return RowDelta(applied=True, added=added, removed=removed, dead=dead)
    finally:
        con.execute(f"drop table if exists temp.{DELTA_TABLE}")
