"""Ingestion: landing files -> contract check -> raw gate (GX) -> DuckDB raw tables, nothing lost.

Public API (imported lazily: ``import growthops.ingest`` stays cheap for DAG files)::

    ingest_day(settings, source, day, *, con=None) -> BatchResult        # what the daily DAG runs
    load_range(settings, source, start, end, *, con=None, progress=None) -> RangeResult   # bulk path
    ingest_files(settings, source, files, *, con=None) -> BatchResult    # the one implementation
    scan_day(settings, source, day) -> (ready: list[LandingFile], pending: list[PendingFile])

Modules: :mod:`.landing` (finding finished files), :mod:`.reader` (SQL parsing, header check),
:mod:`.rules` (typing, row rules), :mod:`.gate` (Great Expectations), :mod:`.ledger` (ledger and
rejects tables), :mod:`.quarantine`, :mod:`.loader` (a day, a range, a batch of files: which files to
judge), :mod:`.batch` (one batch gated and loaded), :mod:`.verdict` (file suite, verdict per file),
:mod:`.commit` (one transaction per batch), :mod:`.outcome` (what happened to each file),
:mod:`.tasks` (what the Airflow tasks do).

DECISIONS
---------
- **Parsing is SQL, not read_csv sniffing.** Files are decoded, split into physical lines and
  re-assembled into records by RFC 4180 quote parity in DuckDB, so ``_source_line`` is the exact
  physical line where a record starts (header = 1), also after quoted embedded newlines, and a
  malformed record is *rejected*, never shifted or swallowed. (DuckDB's ``read_csv`` cannot give a
  line per good row, and its lenient modes silently merge or pad broken rows.)
- **Header**: matched by trimmed, case-insensitive name, any order. Missing/renamed required
  column, duplicate column, or a channel file without ``config/platforms/<platform>.json`` -> the
  whole file is quarantined (contract mismatch), naming expected vs found. Unknown extra columns
  are kept in ``_extra`` (JSON object) and ignored downstream. Channel ``platform`` comes from the
  file name when the file has no such column; a contradicting value is a row reject.
- **Empty vs header-only**: a file with no header at all (0 bytes, blank) is a failed export ->
  quarantined (``non_empty_file``). A header-only file is a valid export of a quiet day (no
  orders, no active campaign): loaded as 0 rows (it replaces that day's earlier batch), with a
  ``no_data_rows`` warning; the row-count-vs-recent-average check warns as well.
- **Truncated file** (last record incomplete and no final newline, or a quote never closed):
  the whole file is quarantined (``file_truncated``); the truncated record is reported as the bad
  row with its line. Loading the part before the cut would silently lose the rows after it.
- **Row rejects** (file, line, rule, column, value, raw record in ``raw.rejects``): wrong field
  count (e.g. an unquoted ``1,234.50``), repeated header line, unparseable value, missing
  not-null value, value outside its enumeration, negative amount or count, clicks > impressions,
  discount + refund > gross, updated before created, bad country code, fx rate <= 0 or USD != 1,
  day outside the export window, duplicate primary key within the file (*every* occurrence is
  rejected: neither version can be trusted). One reject row per rejected record (first rule).
- **Export window**: the row's day (a timestamp's date in the source's declared timezone) minus
  the export day must be 0 for crm and orders (``updated_at``), within [-30, 0] for channel
  (platforms restate earlier days) and [-6, 0] for fx.
- **Threshold**: rejected rows / rows in file > ``sources.<src>.reject_threshold`` (default 1%,
  fx 0) -> the whole file is quarantined instead. Always rows_in_file = rows_loaded +
  rows_rejected for loaded batches (checked inside the load transaction).
- **GX gate**: suites in ``expectations/<source>.json`` have ``row`` expectations (run once per
  batch over every parsed row, ``COMPLETE`` results: every unexpected row is rejected too, so
  nothing GX flags is loaded) and ``file`` expectations (run once per batch over one row of facts
  per file: has header, header problems, UTF-8, truncation, reject share vs threshold, row count
  vs the recent average as a warning). The file verdict comes from GX. A GX crash is a
  *validator error*: nothing loaded, nothing quarantined, ledger rows ``failed``, the Airflow task
  fails without retry with "validator error (not a data failure)".
- **Timestamps**: with an offset -> that instant; without -> read in the source's declared
  timezone (the connection's ``TimeZone`` is set explicitly, never the machine's); stored UTC.
  Money accepts ``1,234.50`` and ``$1,234.50`` (quoted); integers accept ``12,345``; no exponents.
  Values are trimmed; empty text is NULL.
- **Idempotency**: batch id ``<source>/<day>/<file name>@<sha256[:12]>``. A loaded, not superseded
  batch seen again is skipped (no-op, no new ledger row). A different file for the same (source,
  day, export key = file stem, e.g. the platform) replaces the earlier batch in one transaction
  (raw rows and rejects deleted, ledger ``superseded_by``). A quarantined or failed sha256 is never
  "done": dropping a file back into landing re-judges it. Two files of the same export and day
  (``orders.csv`` + ``orders.jsonl``) are refused (``failed``, left in landing).
- **Multi-part exports** (``orders_part1.csv`` + ``orders_part2.csv``, where the source declares
  ``<name>_part[0-9]*``) are one batch: one batch id over all parts (sha256 over the parts' hashes),
  one ledger row listing each part's sha256, keys unique across the parts, parts waiting for each
  other, and one refused part quarantining all of them (:func:`.verdict.refuse_whole_batches`).
- **A lost build database** (:mod:`.lost_build`) is refused, or rebuilt from landing, before a load.
- **Unfinished files** (``.part``/``.tmp``/hidden names, mtime within ``settle_seconds``) are never
  read: the sensor keeps waiting; ``ingest_day`` loads the finished files and raises
  ``NotReadyError`` (transient, retried) for the rest.
- **Quarantine** moves the file byte-identical (sha256 verified) after the ledger commit; its bad
  rows go to the report beside it, not to ``raw.rejects`` (raw tables stay untouched).
"""

from __future__ import annotations

from typing import Any

__all__ = ["LandingFile", "ingest_day", "ingest_files", "load_range", "scan_day"]


def __getattr__(name: str) -> Any:
    if name in ("ingest_day", "ingest_files", "load_range"):
        from growthops.ingest import loader

        return getattr(loader, name)
    if name in ("scan_day", "LandingFile"):
        from growthops.ingest import landing

        return getattr(landing, name)
    raise AttributeError(name)
