"""The load ledger (one row per file version) and the row-level rejects table, in schema ``raw``.

``raw.load_ledger`` — one row per (source, day, file name, sha256) = batch:

- ``batch_id`` is deterministic: ``<source>/<day>/<file name>@<first 12 hex of sha256>``. A file
  re-delivered byte-identical has the same batch id and is a no-op.
- ``export_key`` is what a re-delivery replaces: the file stem (``orders``; the platform for
  channel). Loading a new batch marks every earlier ledger row of the same (source, day,
  export_key) ``superseded_by`` the new batch and deletes their raw rows and rejects in the same
  transaction.
- ``status``: ``loaded`` (every row loaded), ``loaded_with_rejects`` (good rows loaded, bad rows in
  ``raw.rejects``), ``quarantined`` (nothing loaded, file moved to quarantine), ``failed`` (the
  validator crashed or the load failed: nothing loaded, file left in landing), ``skipped``
  (reserved for deliberate no-ops recorded by tools; an identical re-delivery leaves the existing
  row untouched instead of writing a new one).

Invariant for loaded batches: ``rows_in_file = rows_loaded + rows_rejected`` (checked before
every commit).
"""

from __future__ import annotations

from datetime import date

import duckdb

from growthops.warehouse import create_raw_tables

LEDGER_TABLE = "raw.load_ledger"
REJECTS_TABLE = "raw.rejects"
STATUSES = ("loaded", "loaded_with_rejects", "quarantined", "skipped", "failed")
LOADED_STATUSES = ("loaded", "loaded_with_rejects")
SHA_PREFIX = 12

LEDGER_DDL = f"""
create table if not exists {LEDGER_TABLE} (
    batch_id        varchar primary key,
    source          varchar not null,
    day             date not null,
    export_key      varchar not null,
    file_name       varchar not null,
    source_file     varchar not null,
    sha256          varchar not null,
    file_format     varchar not null,
    file_bytes      bigint,
    rows_in_file    bigint,
    rows_loaded     bigint,
    rows_rejected   bigint,
    status          varchar not null check (status in ({", ".join(repr(s) for s in STATUSES)})),
    message         varchar,
    quarantine_path varchar,
    started_at      timestamp,
    finished_at     timestamp,
    superseded_by   varchar
)
"""

REJECTS_DDL = f"""
create table if not exists {REJECTS_TABLE} (
    batch_id    varchar not null,
    source      varchar not null,
    day         date not null,
    source_file varchar not null,
    line        bigint,
    rule        varchar not null,
    column_name varchar,
    value       varchar,
    raw_record  varchar,
    rejected_at timestamp not null
)
"""


def batch_id(source: str, day: date, file_name: str, sha256: str) -> str:
    return f"{source}/{day.isoformat()}/{file_name}@{sha256[:SHA_PREFIX]}"


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Raw tables of the contracts plus the ledger and rejects tables (idempotent)."""
    create_raw_tables(con)
    con.execute(LEDGER_DDL)
    con.execute(REJECTS_DDL)


def loaded_batch_ids(con: duckdb.DuckDBPyConnection, batch_ids: list[str]) -> dict[str, tuple]:
    """Of ``batch_ids``, those currently loaded (not superseded): id -> (status, finished_at)."""
    if not batch_ids:
        return {}
    rows = con.execute(
        f"""
        select batch_id, status, finished_at from {LEDGER_TABLE}
        where batch_id in (select unnest(?::varchar[]))
          and status in {LOADED_STATUSES} and superseded_by is null
        """,
        [batch_ids],
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def recent_average_rows(
    con: duckdb.DuckDBPyConnection, source: str, keys_days: list[tuple[str, date]], window: int = 14
) -> dict[tuple[str, date], float]:
    """Mean rows_in_file of the last ``window`` loaded batches before each (export_key, day)."""
    if not keys_days:
        return {}
    rows = con.execute(
        f"""
        with wanted as (
            select unnest(?::varchar[]) as export_key, unnest(?::date[]) as day
        ),
        history as (
            select w.export_key, w.day, l.rows_in_file,
                   row_number() over (partition by w.export_key, w.day order by l.day desc) as rn
            from wanted w
            join {LEDGER_TABLE} l
              on l.source = ? and l.export_key = w.export_key and l.day < w.day
             and l.status in {LOADED_STATUSES} and l.superseded_by is null
        )
        select export_key, day, avg(rows_in_file) from history where rn <= ? group by all
        """,
        [[k for k, _ in keys_days], [d for _, d in keys_days], source, window],
    ).fetchall()
    return {(r[0], r[1]): float(r[2]) for r in rows}
