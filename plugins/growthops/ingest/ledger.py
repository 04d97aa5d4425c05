"""The load ledger (one row per file version) and the row-level rejects table, in schema ``raw``.

``raw.load_ledger`` — one row per (source, day, file name, sha256) = batch:

- ``batch_id`` is deterministic: ``<source>/<day>/<file name>@<first 12 hex of sha256>``. A file
  re-delivered byte-identical has the same batch id and is a no-op.
- A multi-part export (``orders_part1.csv`` + ``orders_part2.csv`` on one day) is ONE batch and
  one ledger row: ``file_name`` joins the part names with ``+``, ``sha256`` is :func:`parts_sha256`
  over the parts (a re-delivered part changes it, so the whole day is re-judged and replaces the
  earlier batch), and ``parts`` (JSON) records each file with its own sha256, bytes and counts.
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

import hashlib
from datetime import date

import duckdb

from growthops.warehouse import create_raw_tables

LEDGER_TABLE = "raw.load_ledger"
REJECTS_TABLE = "raw.rejects"
STATUSES = ("loaded", "loaded_with_rejects", "quarantined", "skipped", "failed")
LOADED_STATUSES = ("loaded", "loaded_with_rejects")
DST_COLUMNS = ("dst_nonexistent", "dst_ambiguous")  # naive local times in a DST gap / overlap, per batch
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
    for column in DST_COLUMNS:  # added after the first release: ledgers created before lack them
        con.execute(f"alter table {LEDGER_TABLE} add column if not exists {column} bigint")
    con.execute(f"alter table {LEDGER_TABLE} add column if not exists parts varchar")


def parts_sha256(names: list[str], shas: list[str]) -> str:
    """The sha256 of a multi-part batch: over each part's name and sha256, in the given order."""
    text = "\n".join(f"{name} {sha}" for name, sha in zip(names, shas, strict=True))
    return hashlib.sha256(text.encode()).hexdigest()


def record_dst(
    con: duckdb.DuckDBPyConnection, timezone: str, policy: tuple[str, str], outcomes: list
) -> None:
    """Count the loaded rows whose naive timestamps fall in a DST gap or overlap (README "DST
    policy"): into the ledger rows of their batches and as a warning of each file's outcome."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where database_name = 'temp' and table_name = '_ing_typed'"
    ).fetchone()[0]
    if not exists:
        return
    by_batch = {
        batch: (int(gap), int(overlap), lines)
        for batch, gap, overlap, lines in con.execute(
            """
            select f.batch_id, sum(r._dst_nonexistent), sum(r._dst_ambiguous),
                   list(r.line order by r.line)[:10]
            from _ing_rows r join _ing_files f using (file_id)
            where r._dst_nonexistent + r._dst_ambiguous > 0
            group by all
            """
        ).fetchall()
    }
    for o in outcomes:
        if o.batch_id not in by_batch or o.status not in LOADED_STATUSES:
            continue
        gap, overlap, lines = by_batch[o.batch_id]
        con.execute(
            f"update {LEDGER_TABLE} set dst_nonexistent = ?, dst_ambiguous = ? where batch_id = ?",
            [gap, overlap, o.batch_id],
        )
        o.warnings.append(
            f"DST ({timezone}): {gap} local time(s) that do not exist (policy {policy[0]}), {overlap} "
            f"that exist twice (policy {policy[1]}); lines {', '.join(str(n) for n in lines)}"
        )


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
