"""Loading export files into the raw tables: one code path for one file, one day or three years.

:func:`ingest_files` is the only implementation. It takes a batch of files of one source — the
daily DAG passes the files of one day, :func:`load_range` passes chunks of hundreds of days — and

1. hashes them; a file whose batch (source, day, name, sha256) is already loaded is skipped, two
   files of the same export and day are both refused;
2. (:mod:`.batch` from here on) stages and parses them (:mod:`.reader`), types them and applies the row rules (:mod:`.rules`);
3. runs the raw gate (:mod:`.gate`): the row suite once over every parsed row of the batch, then
   the file suite once over one row of facts per file; each file gets its own verdict (:mod:`.verdict`);
4. in ONE DuckDB transaction (:mod:`.commit`): deletes the raw rows and rejects of the batches being replaced
   (same source, day and export key), inserts the good rows with their lineage and the rejects
   with file, line and rule, writes the ledger, marks the replaced batches ``superseded_by`` and
   checks ``rows in file = rows loaded + rows rejected`` for every loaded batch (else rolls back);
5. after the commit, moves every refused file to quarantine with its report.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

import duckdb

from growthops import erasure
from growthops.config import Settings
from growthops.errors import DataQualityError, NotReadyError, QualityCheck, QualityReport, TransientError
from growthops.gx_frames import release_frames, release_pool
from growthops.ingest import gate, ledger, lost_build, storage
from growthops.ingest.batch import gate_and_load
from growthops.ingest.commit import write_ledger_rows
from growthops.ingest.landing import (
    UNEXPECTED_FILE_RULE,
    LandingFile,
    PendingFile,
    UnexpectedFile,
    landing_days,
    scan_day,
    unexpected_files,
)
from growthops.ingest.outcome import Batch, BatchResult, FileOutcome, now
from growthops.logs import get_logger
from growthops.sql import literal, quote
from growthops.warehouse import connect

log = get_logger(__name__)


@contextlib.contextmanager
def _warehouse(
    settings: Settings, con: duckdb.DuckDBPyConnection | None, *, warm_up: bool
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The caller's connection, or the warehouse opened (and closed) here.

    ``warm_up`` imports GX (seconds) before taking the warehouse write lock.
    """
    if con is not None:
        yield con
        return
    if warm_up:
        gate.warm_up()
    own = connect(settings.warehouse_path)
    try:
        lost_build.guard(settings, own)  # a missing or emptied build DB: refuse, or rebuild from landing
        yield own
    finally:
        own.close()


# --------------------------------------------------------------------------------------------------
# the one implementation


def ingest_files(
    settings: Settings,
    source: str,
    files: list[LandingFile],
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> BatchResult:
    """Gate and load ``files`` (all of ``source``); never raises for bad data (see outcomes).

    Raises :class:`ValidatorError` if GX crashed (nothing loaded, nothing quarantined, ledger rows
    ``failed``), :class:`TransientError` for I/O trouble, ``WarehouseLocked`` if the warehouse
    stays locked.
    """
    with _warehouse(settings, con, warm_up=bool(files)) as c:
        timezone = c.execute("select current_setting('TimeZone')").fetchone()[0]
        try:
            ledger.ensure_tables(c)
            with storage.local_copies(settings, files) as readable:  # object storage: downloaded once
                result = _ingest(settings, source, readable, c)
            policy = (settings.nonexistent_local_times, settings.ambiguous_local_times)
            ledger.record_dst(c, settings.source(source).timezone, policy, result.outcomes)
            if source == "crm" and any(o.status in ledger.LOADED_STATUSES for o in result.outcomes):
                erasure.after_crm_load(settings, c)  # erased contacts' PII: out of raw and every serving file
            return result
        finally:
            if con is not None:  # a caller's connection: leave it as it was (time zone, no staging tables)
                _drop_staging(c)
                c.execute(f"set TimeZone = {literal(timezone)}")


def _drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    for name, kind in con.execute(
        """
        select table_name, table_type from information_schema.tables
        where table_schema = 'main' and table_catalog = 'temp' and starts_with(table_name, '_ing_')
        """
    ).fetchall():
        con.execute(f"drop {'view' if kind == 'VIEW' else 'table'} if exists temp.main.{quote(name)}")


def _ingest(
    settings: Settings, source: str, files: list[LandingFile], con: duckdb.DuckDBPyConnection
) -> BatchResult:
    timings: Counter[str] = Counter()
    t0 = time.perf_counter()
    started_at = now()
    try:
        shas = [f.sha256() for f in files]
    except FileNotFoundError as exc:
        raise TransientError(f"{source}: a landing file disappeared while hashing: {exc}") from exc
    batch = Batch(source, files, shas, _batch_ids(source, files, shas), started_at)
    outcomes = _skipped_or_ambiguous(con, batch)
    timings["hash"] += time.perf_counter() - t0

    todo = [i for i in range(len(files)) if i not in outcomes]
    ambiguous = {i: o for i, o in outcomes.items() if o.status == "failed"}
    if todo:
        outcomes.update(zip(todo, gate_and_load(settings, batch.subset(todo), con, timings), strict=True))
    if ambiguous:
        write_ledger_rows(con, batch, ambiguous)
    timings["total"] = time.perf_counter() - t0
    result = BatchResult([outcomes[i] for i in range(len(files))], dict(timings))
    for o in result.outcomes:
        log.info("%s %s: %s %s", source, o.source_file, o.status, o.message)
    return result


def _same_export(files: list[LandingFile]) -> dict[tuple[date, str], list[int]]:
    """Positions of the files of each (day, export key)."""
    by_key: dict[tuple[date, str], list[int]] = {}
    for i, f in enumerate(files):
        by_key.setdefault((f.day, f.export_key), []).append(i)
    return by_key


def _is_multi_part(files: list[LandingFile], ids: list[int]) -> bool:
    """Several files of one export and day that are the distinct parts of one export."""
    parts = [files[i].part for i in ids]
    return len(ids) > 1 and None not in parts and len(set(parts)) == len(parts)


def _batch_ids(source: str, files: list[LandingFile], shas: list[str]) -> list[str]:
    """Each file's batch id; the parts of a multi-part export share one (all parts, in part order)."""
    ids = [ledger.batch_id(source, f.day, f.name, sha) for f, sha in zip(files, shas, strict=True)]
    for (day, _key), same in _same_export(files).items():
        if not _is_multi_part(files, same):
            continue
        same = sorted(same, key=lambda i: files[i].part or 0)
        names = [files[i].name for i in same]
        group = ledger.batch_id(
            source, day, "+".join(names), ledger.parts_sha256(names, [shas[i] for i in same])
        )
        for i in same:
            ids[i] = group
    return ids


def _skipped_or_ambiguous(con: duckdb.DuckDBPyConnection, batch: Batch) -> dict[int, FileOutcome]:
    """Outcomes of the files not to judge: batches already loaded (skipped) and two files for the
    same export on one day that are not the parts of one export (e.g. orders.csv and orders.jsonl,
    or orders.csv and orders_part1.csv: all refused)."""
    loaded = ledger.loaded_batch_ids(con, batch.batch_ids)
    by_key = _same_export(batch.files)
    outcomes: dict[int, FileOutcome] = {}
    for i, f in enumerate(batch.files):
        same_export = by_key[(f.day, f.export_key)]
        if batch.batch_ids[i] in loaded:
            status, finished = loaded[batch.batch_ids[i]]
            message = f"identical to batch {batch.batch_ids[i]} already {status} at {finished}: nothing to do"
            outcomes[i] = batch.outcome(i, "skipped", message=message)
        elif len(same_export) > 1 and not _is_multi_part(batch.files, same_export):
            report = QualityReport(
                kind="contract mismatch",
                source=batch.source,
                day=f.day.isoformat(),
                source_file=f.rel_path,
                sha256=batch.shas[i],
                batch_id=batch.batch_ids[i],
                checks=[
                    QualityCheck(
                        "ambiguous_export",
                        observed=[f.name, *(batch.files[j].name for j in same_export if j != i)],
                        expected=f"one {f.export_key} file per day, or its parts {f.export_key}_part1, _part2, ...",
                        detail="remove the files that are not the export, then re-run",
                    )
                ],
            )
            outcomes[i] = batch.outcome(i, "failed", message=report.summary(), report=report)
    return outcomes


# --------------------------------------------------------------------------------------------------
# entry points


def ingest_day(
    settings: Settings, source: str, day: date, *, con: duckdb.DuckDBPyConnection | None = None
) -> BatchResult:
    """Load the export of ``source`` for ``day`` (what the daily DAG runs).

    Raises :class:`DataQualityError` if a file was quarantined or refused (after loading the good
    files of the day), :class:`NotReadyError` if there is no export or a file is still being
    written (after loading the finished ones), :class:`ValidatorError` if GX crashed.
    """
    ready, pending = scan_day(settings, source, day)
    unexpected = [] if settings.ignore_unexpected_files else unexpected_files(settings, source, day)
    if not ready and not pending and not unexpected:
        raise NotReadyError(f"{source} {day}: no export in {settings.landing_dir / source / day.isoformat()}")
    result = ingest_files(settings, source, ready, con=con) if ready else BatchResult([])
    reports = [o.report for o in result.refused if o.report is not None]
    reports += [_unexpected_report(u) for u in unexpected]
    if reports:
        raise DataQualityError(reports)
    if pending:
        raise NotReadyError(_pending_message(source, day, pending))
    return result


def _unexpected_report(u: UnexpectedFile) -> QualityReport:
    """An unexpected file in the day folder fails the day (a data failure, unless ``[ingest]
    ignore_unexpected_files``): it may be the day's export under another name."""
    return QualityReport(
        kind="contract mismatch",
        source=u.source,
        day=u.day.isoformat(),
        source_file=u.rel_path,
        checks=[
            QualityCheck(
                UNEXPECTED_FILE_RULE,
                observed=u.rel_path.rsplit("/", 1)[-1],
                expected=f"a name matching {u.accepted}",
                detail="not loaded; rename it to an accepted name, or move it out if it is not an export",
            )
        ],
    )


def _pending_message(source: str, day: date, pending: list[PendingFile]) -> str:
    return f"{source} {day}: not read, still being written: " + "; ".join(
        f"{p.rel_path} ({p.reason})" for p in pending
    )


@dataclass
class RangeResult:
    """Outcome of :func:`load_range`."""

    source: str
    start: str
    end: str
    outcomes: list[FileOutcome] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def rows_loaded(self) -> int:
        return sum(o.rows_loaded for o in self.outcomes)

    @property
    def rows_rejected(self) -> int:
        return sum(o.rows_rejected for o in self.outcomes if o.status != "quarantined")

    @property
    def ok(self) -> bool:
        return not any(o.status in ("quarantined", "failed") for o in self.outcomes)

    def summary(self) -> str:
        parts = [
            f"{s} {self.count(s)}"
            for s in ("loaded", "loaded_with_rejects", "skipped", "quarantined", "failed")
        ]
        return (
            f"{self.source} {self.start}..{self.end}: {len(self.outcomes)} files ({', '.join(parts)}), "
            f"{self.rows_loaded} rows loaded, {self.rows_rejected} rejected, "
            f"{len(self.pending)} not ready, {self.seconds:.1f}s"
        )


def load_range(
    settings: Settings,
    source: str,
    start: date,
    end: date,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    chunk_bytes: int = 128 * 1024 * 1024,  # ~1.2M order rows, ~2 GB peak per chunk
    chunk_files: int = 2000,
    progress: Callable[[str], None] | None = None,
) -> RangeResult:
    """Bulk path: every export of ``source`` in ``[start, end]``, in chunks, through :func:`ingest_files`.

    Never raises for bad data: quarantined/refused files are in the result (``ok`` is False).
    """
    t0 = time.perf_counter()
    result = RangeResult(source, start.isoformat(), end.isoformat())
    files: list[LandingFile] = []
    for day in landing_days(settings, source, start, end):
        ready, pending = scan_day(settings, source, day)
        files.extend(ready)
        result.pending.extend(f"{p.rel_path} ({p.reason})" for p in pending)
    chunks = _chunks(files, chunk_bytes, chunk_files)
    timings: Counter[str] = Counter()
    with _warehouse(settings, con, warm_up=bool(files)) as warehouse:
        ledger.ensure_tables(warehouse)
        for n, chunk in enumerate(chunks, start=1):
            batch = ingest_files(settings, source, chunk, con=warehouse)
            release_frames(sum(o.rows_in_file or 0 for o in batch.outcomes))  # the chunk's GX frames
            result.outcomes.extend(batch.outcomes)
            timings.update(batch.timings)
            if progress:
                progress(
                    f"{source}: chunk {n}/{len(chunks)} ({chunk[0].day}..{chunk[-1].day}, {len(chunk)} files) "
                    f"in {batch.timings.get('total', 0):.1f}s — {result.rows_loaded} rows so far"
                )
    release_pool()  # the chunks' frame pages, kept by Arrow for a next chunk there is not
    result.seconds = time.perf_counter() - t0
    result.timings = dict(timings)
    return result


def _chunks(files: list[LandingFile], chunk_bytes: int, chunk_files: int) -> list[list[LandingFile]]:
    """Consecutive chunks of about ``chunk_files`` files and ``chunk_bytes`` bytes, split between days."""
    chunks: list[list[LandingFile]] = [[]]
    size = 0
    for f in files:
        nbytes = f.path.stat().st_size
        full = size + nbytes > chunk_bytes or len(chunks[-1]) >= chunk_files
        if chunks[-1] and full and chunks[-1][-1].day != f.day:  # a day (all its parts) stays in one chunk
            chunks.append([])
            size = 0
        chunks[-1].append(f)
        size += nbytes
    return [c for c in chunks if c]
