"""One batch of files, gated and loaded: the steps between "which files" and "what happened".

:func:`gate_and_load` stages and parses the files (:mod:`.reader`), types them and applies the row
rules (:mod:`.rules`), runs the raw gate's row suite once over every parsed row, takes the final
rule of every row, runs the file suite and gives each file its verdict (:mod:`.verdict`), loads in
one transaction (:mod:`.commit`) and, after the commit, moves every refused file to quarantine.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb

from growthops.config import Settings
from growthops.contracts import CONTRACTS, load_platform_mappings
from growthops.errors import QualityReport, TransientError, ValidatorError
from growthops.gx_frames import frame_from_arrow
from growthops.ingest import gate, ledger, quarantine, reader, rules, verdict
from growthops.ingest.commit import commit, fail_all
from growthops.ingest.outcome import Batch, FileOutcome
from growthops.logs import get_logger
from growthops.sql import quote

log = get_logger(__name__)


def gate_and_load(
    settings: Settings, batch: Batch, con: duckdb.DuckDBPyConnection, timings: Counter[str]
) -> list[FileOutcome]:
    """Gate and load files that are neither loaded already nor ambiguous; one outcome per file.

    Raises :class:`ValidatorError` if GX crashed (ledger rows ``failed``, nothing loaded) and
    :class:`TransientError` if a file cannot be read or moved.
    """
    source = batch.source
    t = time.perf_counter()
    staged = _stage(settings, batch, con)
    timings["parse"] += time.perf_counter() - t

    # ---- raw gate, row level: one GX run over every parsed row of the batch
    suite = gate.load_suite(source)
    _row_gate(con, batch, staged, suite, timings)

    # ---- final rule per row, counts per file
    t = time.perf_counter()
    counts = _final_rules(con)
    recent = ledger.recent_average_rows(con, source, [(f.export_key, f.day) for f in batch.files])
    timings["rules"] += time.perf_counter() - t

    # ---- raw gate, file level: one GX run over one row of facts per file
    t = time.perf_counter()
    facts = verdict.file_facts(batch, staged, counts, recent)
    threshold = settings.source(source).reject_threshold
    frame, file_run = verdict.run_file_suite(suite, facts, threshold)
    timings["gx_files"] += time.perf_counter() - t
    if file_run.status == gate.VALIDATOR_ERROR:
        fail_all(con, batch, staged, file_run.error or "")
        raise ValidatorError(f"{source}: raw gate (file suite) crashed: {file_run.error}")

    # ---- verdict per file
    t = time.perf_counter()
    outcomes, load_ids, quarantines = verdict.judge(
        settings, con, batch, staged, counts, facts, frame, file_run
    )
    load_ids = verdict.refuse_whole_batches(settings, batch, outcomes, load_ids, quarantines)
    timings["verdict"] += time.perf_counter() - t

    # ---- one transaction: replace batches, insert rows and rejects, ledger, invariant
    t = time.perf_counter()
    commit(con, batch, outcomes, load_ids)
    timings["load"] += time.perf_counter() - t

    # ---- after the commit: move refused files out of landing
    t = time.perf_counter()
    _quarantine(settings, batch, quarantines)
    timings["quarantine"] += time.perf_counter() - t
    return outcomes


def _stage(settings: Settings, batch: Batch, con: duckdb.DuckDBPyConnection) -> reader.Staged:
    """Parse the files into ``_ing_text`` and type them into ``_ing_checked`` (row rules applied)."""
    source = batch.source
    mappings = load_platform_mappings(settings.platforms_dir) if source == "channel" else {}
    try:
        staged = reader.stage(con, source, batch.files, mappings, batch.batch_ids, batch.shas)
    except duckdb.IOException as exc:
        raise TransientError(f"{source}: could not read landing files: {exc}") from exc
    date_formats = sorted({p.date_format for p in staged.plans.values() if p.ok})
    dst_policy = (settings.nonexistent_local_times, settings.ambiguous_local_times)
    rules.build_typed(con, source, settings.source(source).timezone, date_formats, dst_policy)
    return staged


def _row_gate(
    con: duckdb.DuckDBPyConnection,
    batch: Batch,
    staged: reader.Staged,
    suite: dict[str, Any],
    timings: Counter[str],
) -> None:
    """The row suite over every parsed row; the rows it finds unexpected go to ``_ing_gx``."""
    t = time.perf_counter()
    row_frame = _row_frame(con, batch.source)
    row_run = gate.validate(row_frame, gate.expectations_of(suite, "row"))
    timings["gx_rows"] += time.perf_counter() - t
    if row_run.status == gate.VALIDATOR_ERROR:
        fail_all(con, batch, staged, row_run.error or "")
        raise ValidatorError(f"{batch.source}: raw gate (row suite) crashed: {row_run.error}")
    _store_gx_flags(con, row_frame, row_run)


def _final_rules(con: duckdb.DuckDBPyConnection) -> verdict.Counts:
    """``_ing_rows``: each row's first failed rule (SQL rules before GX); (rows, rejects) per file."""
    con.execute(
        """
        create or replace temp view _ing_rows as
        select t.*, coalesce(t.sql_rule, g.rule) as final_rule,
               case when t.sql_rule is not null then t.reject_column else g.column_name end as final_column,
               case when t.sql_rule is not null then t.reject_value else g.value end as final_value
        from _ing_checked t left join _ing_gx g using (file_id, line)
        """
    )
    return {
        fid: (n, bad)
        for fid, n, bad in con.execute(
            "select file_id, count(*), count(final_rule) from _ing_rows group by file_id"
        ).fetchall()
    }


def _quarantine(settings: Settings, batch: Batch, quarantines: list[tuple[int, QualityReport]]) -> None:
    for fid, report in quarantines:
        f = batch.files[fid]
        try:
            quarantine.quarantine(settings, f, batch.shas[fid], report, Path(report.quarantine_path))
        except OSError as exc:
            raise TransientError(
                f"{batch.source}: could not move {f.rel_path} to quarantine ({exc}); it stays in landing "
                "and will be re-gated on retry"
            ) from exc


def _row_frame(con: duckdb.DuckDBPyConnection, source: str) -> Any:
    """The DataFrame the row suite sees: typed rows of structurally sound records."""
    contract = CONTRACTS[source]
    cols = [quote(c) for c in contract.names]
    extra = ", discount_amount + refund_amount as _discount_plus_refund" if source == "orders" else ""
    return frame_from_arrow(
        con.execute(
            f"""
            select {", ".join(cols)}, file_id as _file_id, line as _line, _window_offset{extra}
            from _ing_typed where struct_rule is null order by file_id, line
            """
        ).fetch_arrow_table()
    )


def _as_text(values: Any) -> Any:
    """The rejected values as text, a missing one as ``None`` (as Python objects would print)."""
    values = values.astype(object)
    return values.where(values.notna(), None).astype(str)


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
            _as_text(sub[first]) if first in frame.columns else pd.Series([""] * len(sub), index=sub.index)
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
