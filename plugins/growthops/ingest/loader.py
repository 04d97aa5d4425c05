"""Loading export files into the raw tables: one code path for one file, one day or three years.

:func:`ingest_files` is the only implementation. It takes a batch of files of one source — the
daily DAG passes the files of one day, :func:`load_range` passes chunks of hundreds of days — and

1. hashes them; a file whose batch (source, day, name, sha256) is already loaded is skipped;
2. stages and parses them (:mod:`.reader`), types them and applies the row rules (:mod:`.rules`);
3. runs the raw gate (:mod:`.gate`): the row suite once over every parsed row of the batch, then
   the file suite once over one row of facts per file; each file gets its own verdict;
4. in ONE DuckDB transaction: deletes the raw rows and rejects of the batches being replaced
   (same source, day and export key), inserts the good rows with their lineage and the rejects
   with file, line and rule, writes the ledger, marks the replaced batches ``superseded_by`` and
   checks ``rows in file = rows loaded + rows rejected`` for every loaded batch (else rolls back);
5. after the commit, moves every refused file to quarantine with its report.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from growthops import erasure
from growthops.config import Settings
from growthops.contracts import CONTRACTS, LINEAGE_COLUMNS, load_platform_mappings
from growthops.errors import (
    DataQualityError,
    NotReadyError,
    QualityCheck,
    QualityReport,
    TransientError,
    ValidatorError,
)
from growthops.ingest import gate, ledger, quarantine, reader, rules
from growthops.ingest.landing import LandingFile, PendingFile, landing_days, scan_day
from growthops.logs import get_logger
from growthops.warehouse import connect

log = get_logger(__name__)

SAMPLE_ROWS = 10
KIND_BY_RULE = {
    "header_matches_contract": "contract mismatch",
    "utf8_encoding": "contract mismatch",
    "ambiguous_export": "contract mismatch",
    "reject_threshold": "reject threshold exceeded",
}


@dataclass
class FileOutcome:
    """What happened to one file. ``status`` is a ledger status, or ``skipped`` for a no-op."""

    source: str
    day: str
    source_file: str
    batch_id: str
    sha256: str
    status: str  # loaded | loaded_with_rejects | quarantined | skipped | failed
    rows_in_file: int | None = None
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str = ""
    quarantine_path: str | None = None
    warnings: list[str] = field(default_factory=list)
    report: QualityReport | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["report"] = None if self.report is None else self.report.to_dict()
        return d


@dataclass
class BatchResult:
    """Outcomes of one :func:`ingest_files` call, plus where the time went."""

    outcomes: list[FileOutcome]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def refused(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status in ("quarantined", "failed")]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


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
    own = con is None
    if own:
        if files:
            gate.warm_up()  # import GX (seconds) before taking the warehouse write lock
        con = connect(settings.warehouse_path)
    timezone = con.execute("select current_setting('TimeZone')").fetchone()[0]
    try:
        ledger.ensure_tables(con)
        result = _ingest(settings, source, files, con)
        policy = (settings.nonexistent_local_times, settings.ambiguous_local_times)
        ledger.record_dst(con, settings.source(source).timezone, policy, result.outcomes)
        if source == "crm" and any(o.status in ledger.LOADED_STATUSES for o in result.outcomes):
            erasure.after_crm_load(settings, con)  # PII of erased contacts: out of raw and every serving file
        return result
    finally:
        if own:
            con.close()
        else:  # a caller's connection: leave it as it was (session time zone, no staging tables)
            _drop_staging(con)
            con.execute(f"set TimeZone = {reader.sql_str(timezone)}")


def _drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    for name, kind in con.execute(
        """
        select table_name, table_type from information_schema.tables
        where table_schema = 'main' and table_catalog = 'temp' and starts_with(table_name, '_ing_')
        """
    ).fetchall():
        con.execute(f"drop {'view' if kind == 'VIEW' else 'table'} if exists temp.main.{reader.ident(name)}")


def _ingest(
    settings: Settings, source: str, files: list[LandingFile], con: duckdb.DuckDBPyConnection
) -> BatchResult:
    timings: Counter[str] = Counter()
    t0 = time.perf_counter()
    started_at = _now()
    outcomes: dict[int, FileOutcome] = {}

    try:
        shas = [f.sha256() for f in files]
    except FileNotFoundError as exc:
        raise TransientError(f"{source}: a landing file disappeared while hashing: {exc}") from exc
    batch_ids = [ledger.batch_id(source, f.day, f.name, sha) for f, sha in zip(files, shas, strict=True)]
    loaded = ledger.loaded_batch_ids(con, batch_ids)

    # two files for the same export on one day (e.g. orders.csv and orders.jsonl): refuse both
    by_key: dict[tuple[date, str], list[int]] = {}
    for i, f in enumerate(files):
        by_key.setdefault((f.day, f.export_key), []).append(i)
    ambiguous = {i for ids in by_key.values() if len(ids) > 1 for i in ids}

    todo: list[int] = []
    for i, f in enumerate(files):
        if batch_ids[i] in loaded:
            status, finished = loaded[batch_ids[i]]
            outcomes[i] = FileOutcome(
                source,
                f.day.isoformat(),
                f.rel_path,
                batch_ids[i],
                shas[i],
                "skipped",
                message=f"identical to batch {batch_ids[i]} already {status} at {finished}: nothing to do",
            )
        elif i in ambiguous:
            others = [files[j].name for j in by_key[(f.day, f.export_key)] if j != i]
            report = QualityReport(
                kind="contract mismatch",
                source=source,
                day=f.day.isoformat(),
                source_file=f.rel_path,
                sha256=shas[i],
                batch_id=batch_ids[i],
                checks=[
                    QualityCheck(
                        "ambiguous_export",
                        observed=[f.name, *others],
                        expected=f"one {f.export_key} file per day",
                        detail="remove the files that are not the export, then re-run",
                    )
                ],
            )
            outcomes[i] = FileOutcome(
                source,
                f.day.isoformat(),
                f.rel_path,
                batch_ids[i],
                shas[i],
                "failed",
                message=report.summary(),
                report=report,
            )
        else:
            todo.append(i)
    timings["hash"] += time.perf_counter() - t0

    if todo:
        work = [files[i] for i in todo]
        res = _gate_and_load(
            settings,
            source,
            work,
            [shas[i] for i in todo],
            [batch_ids[i] for i in todo],
            con,
            started_at,
            timings,
        )
        for j, i in enumerate(todo):
            outcomes[i] = res[j]
    failed_ambiguous = [i for i in outcomes if outcomes[i].status == "failed" and i not in todo]
    if failed_ambiguous:
        _write_ledger_rows(con, source, files, shas, batch_ids, outcomes, failed_ambiguous, started_at)
    timings["total"] = time.perf_counter() - t0
    result = BatchResult([outcomes[i] for i in range(len(files))], dict(timings))
    for o in result.outcomes:
        log.info("%s %s: %s %s", source, o.source_file, o.status, o.message)
    return result


def _gate_and_load(
    settings: Settings,
    source: str,
    files: list[LandingFile],
    shas: list[str],
    batch_ids: list[str],
    con: duckdb.DuckDBPyConnection,
    started_at: datetime,
    timings: Counter[str],
) -> list[FileOutcome]:
    src_settings = settings.source(source)
    t = time.perf_counter()
    mappings = load_platform_mappings(settings.platforms_dir) if source == "channel" else {}
    try:
        staged = reader.stage(con, source, files, mappings, batch_ids, shas)
    except duckdb.IOException as exc:
        raise TransientError(f"{source}: could not read landing files: {exc}") from exc
    date_formats = sorted({p.date_format for p in staged.plans.values() if p.ok})
    policy = (settings.nonexistent_local_times, settings.ambiguous_local_times)
    rules.build_typed(con, source, src_settings.timezone, date_formats, policy)
    timings["parse"] += time.perf_counter() - t

    # ---- raw gate, row level: one GX run over every parsed row of the batch
    t = time.perf_counter()
    suite = gate.load_suite(source)
    row_frame = _row_frame(con, source)
    row_run = gate.validate(row_frame, gate.expectations_of(suite, "row"))
    timings["gx_rows"] += time.perf_counter() - t
    if row_run.status == gate.VALIDATOR_ERROR:
        _fail_all(con, source, files, shas, batch_ids, staged, started_at, row_run.error or "")
        raise ValidatorError(f"{source}: raw gate (row suite) crashed: {row_run.error}")
    _store_gx_flags(con, row_frame, row_run)
    del row_frame

    # ---- final rule per row, counts per file
    t = time.perf_counter()
    con.execute(
        """
        create or replace temp view _ing_rows as
        select t.*, coalesce(t.sql_rule, g.rule) as final_rule,
               case when t.sql_rule is not null then t.reject_column else g.column_name end as final_column,
               case when t.sql_rule is not null then t.reject_value else g.value end as final_value
        from _ing_checked t left join _ing_gx g using (file_id, line)
        """
    )
    counts = {
        fid: (n, bad)
        for fid, n, bad in con.execute(
            "select file_id, count(*), count(final_rule) from _ing_rows group by file_id"
        ).fetchall()
    }
    recent = ledger.recent_average_rows(con, source, [(f.export_key, f.day) for f in files])
    timings["rules"] += time.perf_counter() - t

    # ---- raw gate, file level: one GX run over one row of facts per file
    t = time.perf_counter()
    facts_rows = []
    for fid, f in enumerate(files):
        plan, fact = staged.plans[fid], staged.facts[fid]
        n, bad = counts.get(fid, (fact.records if not plan.ok else 0, 0))
        avg = recent.get((f.export_key, f.day))
        facts_rows.append(
            {
                "_file_id": fid,
                "has_header": (1 if plan.has_header else 0) if fact.utf8_ok else None,
                "rows_in_file": n,
                "header_problems": plan.header_problems if fact.utf8_ok else None,
                "utf8_invalid": 0 if fact.utf8_ok else 1,
                "truncated": 1 if fact.truncated else 0,
                "reject_share": (bad / n) if (plan.ok and n) else None,
                "row_count_ratio": (n / avg) if (avg and plan.ok) else None,
            }
        )
    import pandas as pd

    file_frame = pd.DataFrame(facts_rows).astype(
        {
            "has_header": "Float64",
            "header_problems": "Float64",
            "reject_share": "Float64",
            "row_count_ratio": "Float64",
        }
    )
    file_run = gate.validate(
        file_frame,
        gate.expectations_of(suite, "file"),
        {"reject_threshold": float(src_settings.reject_threshold)},
    )
    timings["gx_files"] += time.perf_counter() - t
    if file_run.status == gate.VALIDATOR_ERROR:
        _fail_all(con, source, files, shas, batch_ids, staged, started_at, file_run.error or "")
        raise ValidatorError(f"{source}: raw gate (file suite) crashed: {file_run.error}")

    # ---- verdict per file
    failed_by_file: dict[int, list[gate.ExpectationRun]] = {}
    warn_by_file: dict[int, list[str]] = {}
    for run in file_run.results:
        if run.success:
            continue
        for idx in run.unexpected_index:
            fid = int(file_frame.at[idx, "_file_id"])
            if run.severity == "critical":
                failed_by_file.setdefault(fid, []).append(run)
            else:
                value = file_frame.at[idx, run.column] if run.column in file_frame else None
                warn_by_file.setdefault(fid, []).append(
                    f"{run.rule}: observed {value}, expected {run.expected}"
                )

    outcomes: list[FileOutcome] = []
    quarantines: list[tuple[int, QualityReport]] = []
    load_ids: list[int] = []
    for fid, f in enumerate(files):
        n, bad = counts.get(fid, (facts_rows[fid]["rows_in_file"], 0))
        o = FileOutcome(
            source,
            f.day.isoformat(),
            f.rel_path,
            batch_ids[fid],
            shas[fid],
            "loaded",
            rows_in_file=int(n),
            warnings=warn_by_file.get(fid, []),
        )
        if fid in failed_by_file:
            report = _quality_report(
                con,
                source,
                f,
                fid,
                shas[fid],
                batch_ids[fid],
                staged,
                facts_rows[fid],
                failed_by_file[fid],
                src_settings.reject_threshold,
            )
            report.warnings = o.warnings
            target = quarantine.quarantine_target(settings, f, shas[fid])
            report.quarantine_path = str(target)
            o.status, o.report, o.quarantine_path = "quarantined", report, str(target)
            o.rows_rejected = int(bad) if staged.plans[fid].ok else 0
            o.message = report.summary()
            quarantines.append((fid, report))
        else:
            o.rows_rejected, o.rows_loaded = int(bad), int(n - bad)
            o.status = "loaded_with_rejects" if bad else "loaded"
            o.message = _load_message(con, fid, n, bad)
            load_ids.append(fid)
        outcomes.append(o)
    timings["verdict"] += time.perf_counter() - t

    # ---- one transaction: replace batches, insert rows and rejects, ledger, invariant
    t = time.perf_counter()
    _commit(con, source, files, outcomes, load_ids, started_at)
    timings["load"] += time.perf_counter() - t

    # ---- after the commit: move refused files out of landing
    t = time.perf_counter()
    for fid, report in quarantines:
        try:
            quarantine.quarantine(settings, files[fid], shas[fid], report, Path(report.quarantine_path))
        except OSError as exc:
            raise TransientError(
                f"{source}: could not move {files[fid].rel_path} to quarantine ({exc}); it stays in landing "
                "and will be re-gated on retry"
            ) from exc
    timings["quarantine"] += time.perf_counter() - t
    return outcomes


# --------------------------------------------------------------------------------------------------
# helpers


def _row_frame(con: duckdb.DuckDBPyConnection, source: str) -> Any:
    """The DataFrame the row suite sees: typed rows of structurally sound records."""
    contract = CONTRACTS[source]
    cols = [reader.ident(c) for c in contract.names]
    extra = ", discount_amount + refund_amount as _discount_plus_refund" if source == "orders" else ""
    return con.execute(
        f"""
        select {", ".join(cols)}, file_id as _file_id, line as _line, _window_offset{extra}
        from _ing_typed where struct_rule is null order by file_id, line
        """
    ).df()


def _store_gx_flags(con: duckdb.DuckDBPyConnection, frame: Any, run: gate.SuiteRun) -> None:
    """``_ing_gx``: rows the row suite found unexpected (first failing expectation per row)."""
    import pandas as pd

    parts = []
    for r in run.results:
        if r.success or r.severity != "critical" or not r.unexpected_index:
            continue
        idx = r.unexpected_index
        sub = frame.iloc[idx]
        col = r.column or ""
        first = col.split(", ")[0]
        values = (
            sub[first].astype(str) if first in frame.columns else pd.Series([""] * len(sub), index=sub.index)
        )
        parts.append(
            pd.DataFrame(
                {
                    "file_id": sub["_file_id"].astype("int32").to_numpy(),
                    "line": sub["_line"].astype("int64").to_numpy(),
                    "rule": r.rule,
                    "column_name": col,
                    "value": values.to_numpy(),
                    "prio": len(parts),
                }
            )
        )
    flags = (
        pd.concat(parts).sort_values("prio").drop_duplicates(["file_id", "line"])
        if parts
        else pd.DataFrame(
            {
                "file_id": pd.Series(dtype="int32"),
                "line": pd.Series(dtype="int64"),
                "rule": pd.Series(dtype=str),
                "column_name": pd.Series(dtype=str),
                "value": pd.Series(dtype=str),
            }
        )
    )
    con.register("_ing_gx_df", flags[["file_id", "line", "rule", "column_name", "value"]])
    con.execute(
        """
        create or replace temp table _ing_gx as
        select file_id::int as file_id, line::bigint as line, rule::varchar as rule,
               column_name::varchar as column_name, value::varchar as value
        from _ing_gx_df
        """
    )
    con.unregister("_ing_gx_df")
    only_gx = con.execute(
        "select count(*) from _ing_gx g join _ing_checked t using (file_id, line) where t.sql_rule is null"
    ).fetchone()[0]
    if only_gx:
        log.warning("raw gate rejected %d rows that the SQL rules accepted", only_gx)


def _load_message(con: duckdb.DuckDBPyConnection, fid: int, n: int, bad: int) -> str:
    if not bad:
        return f"{n} rows loaded"
    by_rule = con.execute(
        "select final_rule, count(*) from _ing_rows where file_id = ? and final_rule is not null "
        "group by all order by 2 desc, 1",
        [fid],
    ).fetchall()
    rules_text = ", ".join(f"{r} x{c}" for r, c in by_rule)
    return f"{n - bad} rows loaded, {bad} rejected ({rules_text})"


def _quality_report(
    con: duckdb.DuckDBPyConnection,
    source: str,
    f: LandingFile,
    fid: int,
    sha: str,
    batch_id: str,
    staged: reader.Staged,
    facts: dict[str, Any],
    failed: list[gate.ExpectationRun],
    threshold: float,
) -> QualityReport:
    plan = staged.plans[fid]
    checks: list[QualityCheck] = []
    kind = "raw gate failed"
    for run in failed:
        kind = KIND_BY_RULE.get(run.rule, kind) if kind == "raw gate failed" else kind
        if run.rule == "header_matches_contract":
            checks.extend(plan.checks)
            continue
        observed = facts.get(run.column) if run.column else None
        check = QualityCheck(run.rule, observed=observed, expected=run.expected)
        if run.rule == "non_empty_file":
            check.observed = f"no header and no rows ({staged.facts[fid].bytes} bytes)"
            check.expected = "a header line (and data rows)"
        elif run.rule == "utf8_encoding":
            check.observed, check.expected = reader.describe_encoding(f.path), "UTF-8 (with or without BOM)"
        elif run.rule == "reject_threshold":
            check.observed = f"{observed:.2%} of rows rejected"
            check.expected = f"<= {threshold:.2%}"
        elif run.rule == "file_truncated":
            last = con.execute(
                "select max(line) from _ing_rows where file_id = ? and final_rule in "
                "('truncated_row', 'unterminated_quote', 'invalid_json')",
                [fid],
            ).fetchone()[0]
            check.observed = "the last record is incomplete (no final newline or an unclosed quote)"
            check.expected = "complete records"
            check.lines = [int(last)] if last is not None else []
        checks.append(check)
    # the row rules behind the rejects (for the threshold, and as context for other failures)
    for rule, column, n, lines in con.execute(
        """
        select final_rule, final_column, count(*), list(line order by line)[:20]
        from _ing_rows where file_id = ? and final_rule is not null
        group by all order by 3 desc, 1
        """,
        [fid],
    ).fetchall():
        checks.append(
            QualityCheck(rule, observed=f"{n} rows", expected="0 rows", column=column, lines=list(lines))
        )
    samples = [
        {"line": line, "rule": rule, "column": column, "value": value, "raw_record": raw}
        for line, rule, column, value, raw in con.execute(
            f"""
            select line, final_rule, final_column, final_value, raw_record from _ing_rows
            where file_id = ? and final_rule is not null order by line limit {SAMPLE_ROWS}
            """,
            [fid],
        ).fetchall()
    ]
    return QualityReport(
        kind=kind,
        source=source,
        day=f.day.isoformat(),
        source_file=f.rel_path,
        sha256=sha,
        batch_id=batch_id,
        checks=checks,
        sample_rows=samples,
        rows_in_file=int(facts["rows_in_file"]) if facts["rows_in_file"] is not None else None,
        rows_rejected=con.execute(
            "select count(final_rule) from _ing_rows where file_id = ?", [fid]
        ).fetchone()[0],
    )


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


def _ledger_row(
    source: str,
    f: LandingFile,
    sha: str,
    batch: str,
    o: FileOutcome,
    started_at: datetime,
    finished_at: datetime,
) -> dict[str, Any]:
    return {
        "batch_id": batch,
        "source": source,
        "day": f.day,
        "export_key": f.export_key,
        "file_name": f.name,
        "source_file": f.rel_path,
        "sha256": sha,
        "file_format": f.format,
        "file_bytes": f.path.stat().st_size if f.path.exists() else None,
        "rows_in_file": o.rows_in_file,
        "rows_loaded": o.rows_loaded,
        "rows_rejected": o.rows_rejected,
        "status": o.status,
        "message": o.message[:2000],
        "quarantine_path": o.quarantine_path,
        "started_at": started_at,
        "finished_at": finished_at,
        "superseded_by": None,
    }


def _write_ledger_rows(
    con: duckdb.DuckDBPyConnection,
    source: str,
    files: list[LandingFile],
    shas: list[str],
    batch_ids: list[str],
    outcomes: dict[int, FileOutcome],
    ids: list[int],
    started_at: datetime,
) -> None:
    finished = _now()
    _ledger_insert(
        con,
        [
            _ledger_row(source, files[i], shas[i], batch_ids[i], outcomes[i], started_at, finished)
            for i in ids
        ],
    )


def _fail_all(
    con: duckdb.DuckDBPyConnection,
    source: str,
    files: list[LandingFile],
    shas: list[str],
    batch_ids: list[str],
    staged: reader.Staged,
    started_at: datetime,
    error: str,
) -> None:
    """The validator crashed: ledger rows ``failed`` (not for batches already loaded), files stay put."""
    outcomes = {
        i: FileOutcome(
            source,
            f.day.isoformat(),
            f.rel_path,
            batch_ids[i],
            shas[i],
            "failed",
            rows_in_file=staged.facts[i].records,
            message=f"validator error (data not judged): {error}",
        )
        for i, f in enumerate(files)
    }
    _write_ledger_rows(con, source, files, shas, batch_ids, outcomes, list(outcomes), started_at)


def _commit(
    con: duckdb.DuckDBPyConnection,
    source: str,
    files: list[LandingFile],
    outcomes: list[FileOutcome],
    load_ids: list[int],
    started_at: datetime,
) -> None:
    contract = CONTRACTS[source]
    table = contract.raw_table
    loaded_at = _now()
    data_cols = [reader.ident(c) for c in contract.names]
    lineage = [reader.ident(c.name) for c in LINEAGE_COLUMNS]
    new_batches = [outcomes[i].batch_id for i in load_ids]
    con.execute("begin transaction")
    try:
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
            select l.batch_id as old_id, p.batch_id as new_id
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
        finished = _now()
        _ledger_insert(
            con,
            [
                _ledger_row(source, files[i], o.sha256, o.batch_id, o, started_at, finished)
                for i, o in enumerate(outcomes)
            ],
        )
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
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


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
    if not ready and not pending:
        raise NotReadyError(f"{source} {day}: no export in {settings.landing_dir / source / day.isoformat()}")
    result = ingest_files(settings, source, ready, con=con) if ready else BatchResult([])
    reports = [o.report for o in result.refused if o.report is not None]
    if reports:
        raise DataQualityError(reports)
    if pending:
        raise NotReadyError(_pending_message(source, day, pending))
    return result


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
    chunks: list[list[LandingFile]] = [[]]
    size = 0
    for f in files:
        nbytes = f.path.stat().st_size
        if chunks[-1] and (size + nbytes > chunk_bytes or len(chunks[-1]) >= chunk_files):
            chunks.append([])
            size = 0
        chunks[-1].append(f)
        size += nbytes
    chunks = [c for c in chunks if c]
    own = con is None
    if own:
        if files:
            gate.warm_up()
        con = connect(settings.warehouse_path)
    timings: Counter[str] = Counter()
    try:
        ledger.ensure_tables(con)
        for n, chunk in enumerate(chunks, start=1):
            batch = ingest_files(settings, source, chunk, con=con)
            result.outcomes.extend(batch.outcomes)
            timings.update(batch.timings)
            if progress:
                progress(
                    f"{source}: chunk {n}/{len(chunks)} ({chunk[0].day}..{chunk[-1].day}, {len(chunk)} files) "
                    f"in {batch.timings.get('total', 0):.1f}s — {result.rows_loaded} rows so far"
                )
    finally:
        if own:
            con.close()
    result.seconds = time.perf_counter() - t0
    result.timings = dict(timings)
    return result
