"""Writing a batch's outcome: the one load transaction, and ledger rows for files not loaded.

:func:`commit` runs in ONE DuckDB transaction: it deletes the raw rows and rejects of the batches
being replaced (same source, day and export key), inserts the good rows with their lineage and the
rejects with file, line and rule, writes the ledger, marks the replaced batches ``superseded_by``
and checks ``rows in file = rows loaded + rows rejected`` for every loaded batch (else rolls back).
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from typing import Any

import duckdb

from growthops.contracts import CONTRACTS, LINEAGE_COLUMNS
from growthops.errors import TransientError
from growthops.ingest import ledger
from growthops.ingest.outcome import Batch, FileOutcome, now
from growthops.ingest.reader import Staged
from growthops.sql import quote


def _ledger_insert(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    con.execute(
        f"""
        insert or replace into {ledger.LEDGER_TABLE} ({", ".join(cols)})
        select {", ".join(f"unnest(${i + 1})" for i in range(len(cols)))}
        """,
        [[r[c] for r in rows] for c in cols],
    )


def _ledger_row(batch: Batch, i: int, o: FileOutcome, finished_at: datetime) -> dict[str, Any]:
    f = batch.files[i]
    return {
        "batch_id": o.batch_id,
        "source": batch.source,
        "day": f.day,
        "export_key": f.export_key,
        "file_name": f.name,
        "source_file": f.rel_path,
        "sha256": o.sha256,
        "file_format": f.format,
        "file_bytes": f.path.stat().st_size if f.path.exists() else None,
        "rows_in_file": o.rows_in_file,
        "rows_loaded": o.rows_loaded,
        "rows_rejected": o.rows_rejected,
        "status": o.status,
        "message": o.message[:2000],
        "quarantine_path": o.quarantine_path,
        "started_at": batch.started_at,
        "finished_at": finished_at,
        "superseded_by": None,
        "parts": None,
    }


PART_FIELDS = (
    "file_name",
    "source_file",
    "sha256",
    "file_bytes",
    "rows_in_file",
    "rows_loaded",
    "rows_rejected",
)
SEVERITY = ("failed", "quarantined", "loaded_with_rejects", "loaded", "skipped")


def _ledger_rows(batch: Batch, items: list[tuple[int, FileOutcome]]) -> list[dict[str, Any]]:
    """One ledger row per batch: a multi-part export's files (same batch id) become one row that
    sums their counts, takes the worst status and lists every part with its own sha256."""
    finished = now()
    by_batch: dict[str, list[dict[str, Any]]] = {}
    for i, o in items:
        by_batch.setdefault(o.batch_id, []).append(_ledger_row(batch, i, o, finished))
    rows = []
    for parts in by_batch.values():
        if len(parts) == 1:
            rows.append(parts[0])
            continue
        names = [p["file_name"] for p in parts]
        row = dict(parts[0])
        row |= {
            "file_name": "+".join(names),
            "sha256": ledger.parts_sha256(names, [p["sha256"] for p in parts]),
            "status": min((p["status"] for p in parts), key=SEVERITY.index),
            "message": " | ".join(p["message"] for p in parts)[:2000],
            "parts": json.dumps([{k: p[k] for k in PART_FIELDS} for p in parts]),
        }
        for column in ("file_bytes", "rows_in_file", "rows_loaded", "rows_rejected"):
            row[column] = sum(p[column] or 0 for p in parts)
        rows.append(row)
    return rows


def write_ledger_rows(con: duckdb.DuckDBPyConnection, batch: Batch, outcomes: dict[int, FileOutcome]) -> None:
    """Ledger rows of the files ``outcomes`` names (by position in ``batch``)."""
    _ledger_insert(con, _ledger_rows(batch, list(outcomes.items())))


def fail_all(con: duckdb.DuckDBPyConnection, batch: Batch, staged: Staged, error: str) -> None:
    """The validator crashed: ledger rows ``failed`` (not for batches already loaded), files stay put."""
    outcomes = {
        i: batch.outcome(
            i,
            "failed",
            rows_in_file=staged.facts[i].records,
            message=f"validator error (data not judged): {error}",
        )
        for i in range(len(batch.files))
    }
    write_ledger_rows(con, batch, outcomes)


def commit(
    con: duckdb.DuckDBPyConnection, batch: Batch, outcomes: list[FileOutcome], load_ids: list[int]
) -> None:
    """Replace batches, insert rows and rejects, write the ledger, check the invariant: all or nothing."""
    con.execute("begin transaction")
    try:
        _replace_and_insert(con, batch.source, [outcomes[i].batch_id for i in load_ids], load_ids)
        _ledger_insert(con, _ledger_rows(batch, list(enumerate(outcomes))))
        _check_invariant(con, CONTRACTS[batch.source].raw_table)
        con.execute("commit")
    except Exception as exc:
        with contextlib.suppress(duckdb.TransactionException):  # a failed COMMIT has ended it already
            con.execute("rollback")
        if _write_failure(exc):
            raise TransientError(
                f"{batch.source}: could not write the build database ({str(exc).splitlines()[0][:300]}); "
                "nothing of this batch was loaded, the files stay in landing. Is the disk full? Free space, "
                "then re-run"
            ) from exc
        raise


WRITE_FAILURES = ("no space left on device", "could not write", "disk quota", "input/output error")


def _write_failure(exc: BaseException) -> bool:
    """A DuckDB error caused by the disk (full, quota, I/O), not by the data or the code."""
    return isinstance(exc, duckdb.Error) and any(w in str(exc).lower() for w in WRITE_FAILURES)


def _replace_and_insert(
    con: duckdb.DuckDBPyConnection, source: str, new_batches: list[str], load_ids: list[int]
) -> None:
    """Delete the rows of replaced batches, insert the rows and rejects of ``load_ids``, mark the
    replaced batches ``superseded_by`` (inside the caller's transaction)."""
    contract = CONTRACTS[source]
    table = contract.raw_table
    loaded_at = now()
    data_cols = [quote(c) for c in contract.names]
    lineage = [quote(c.name) for c in LINEAGE_COLUMNS]
    con.execute(
        """
        create or replace temp table _ing_load as
        select unnest(?::int[]) as file_id, unnest(?::varchar[]) as batch_id
        """,
        [load_ids, new_batches],
    )
    con.execute(
        f"""
        create or replace temp table _ing_replaced as
        select distinct l.batch_id as old_id, p.batch_id as new_id
        from {ledger.LEDGER_TABLE} l
        join _ing_load p on true
        join _ing_files f on f.file_id = p.file_id
        where l.source = ? and l.day = f.day and l.export_key = f.export_key
          and l.superseded_by is null and l.batch_id <> p.batch_id
        """,
        [source],
    )
    gone = "(select old_id from _ing_replaced union all select batch_id from _ing_load)"
    con.execute(f"delete from {table} where _batch_id in {gone}")
    con.execute(f"delete from {ledger.REJECTS_TABLE} where batch_id in {gone}")
    con.execute(
        f"""
        insert into {table} ({", ".join(data_cols + lineage)})
        select {", ".join("r." + c for c in data_cols)},
               p.batch_id, f.day, f.rel_path, r.line, r._extra, ?
        from _ing_rows r join _ing_load p using (file_id) join _ing_files f using (file_id)
        where r.final_rule is null
        """,
        [loaded_at],
    )
    con.execute(
        f"""
        insert into {ledger.REJECTS_TABLE}
            (batch_id, source, day, source_file, line, rule, column_name, value, raw_record, rejected_at)
        select p.batch_id, ?, f.day, f.rel_path, r.line, r.final_rule, r.final_column, r.final_value,
               r.raw_record, ?
        from _ing_rows r join _ing_load p using (file_id) join _ing_files f using (file_id)
        where r.final_rule is not null
        """,
        [source, loaded_at],
    )
    con.execute(
        f"""
        update {ledger.LEDGER_TABLE} set superseded_by = r.new_id
        from _ing_replaced r where {ledger.LEDGER_TABLE}.batch_id = r.old_id
        """
    )


def _check_invariant(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """rows_in_file = rows_loaded + rows_rejected for every batch being loaded (else raise)."""
    broken = con.execute(
        f"""
        with loaded as (
            select _batch_id as batch_id, count(*) as n from {table}
            where _batch_id in (select batch_id from _ing_load) group by all
        ),
        rejected as (
            select batch_id, count(*) as n from {ledger.REJECTS_TABLE}
            where batch_id in (select batch_id from _ing_load) group by all
        )
        select l.batch_id, l.rows_in_file, coalesce(a.n, 0), coalesce(b.n, 0)
        from {ledger.LEDGER_TABLE} l
        left join loaded a using (batch_id) left join rejected b using (batch_id)
        where l.batch_id in (select batch_id from _ing_load)
          and (l.rows_in_file <> coalesce(a.n, 0) + coalesce(b.n, 0)
               or l.rows_loaded <> coalesce(a.n, 0) or l.rows_rejected <> coalesce(b.n, 0))
        """
    ).fetchall()
    if broken:
        raise RuntimeError(f"invariant rows_in_file = rows_loaded + rows_rejected broken: {broken}")
