"""The raw gate at file level, and the verdict per file: loaded (with its rejects) or quarantined.

The file suite runs once per batch over one row of facts per file (has header, header problems,
UTF-8, truncation, reject share vs threshold, row count vs the recent average as a warning). A
critical expectation that fails for a file quarantines it with a :class:`QualityReport`; a
warning is kept on the file's outcome.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from growthops.config import Settings
from growthops.errors import QualityCheck, QualityReport
from growthops.ingest import gate, quarantine
from growthops.ingest.detect import describe_encoding
from growthops.ingest.outcome import Batch, FileOutcome
from growthops.ingest.reader import Staged

SAMPLE_ROWS = 10
KIND_BY_RULE = {
    "header_matches_contract": "contract mismatch",
    "utf8_encoding": "contract mismatch",
    "ambiguous_export": "contract mismatch",
    "reject_threshold": "reject threshold exceeded",
}

Counts = dict[int, tuple[int, int]]  # file_id -> (rows in file, rows rejected)


def file_facts(
    batch: Batch, staged: Staged, counts: Counts, recent: dict[tuple[str, Any], float]
) -> list[dict[str, Any]]:
    """One row of facts per file: what the file suite judges."""
    rows = []
    for fid, f in enumerate(batch.files):
        plan, fact = staged.plans[fid], staged.facts[fid]
        n, bad = counts.get(fid, (fact.records if not plan.ok else 0, 0))
        avg = recent.get((f.export_key, f.day))
        rows.append(
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
    return rows


def run_file_suite(
    suite: dict[str, Any], facts: list[dict[str, Any]], threshold: float
) -> tuple[Any, gate.SuiteRun]:
    """The facts as a DataFrame and the file suite's run over it (one GX run for the batch)."""
    import pandas as pd

    frame = pd.DataFrame(facts).astype(
        {
            "has_header": "Float64",
            "header_problems": "Float64",
            "reject_share": "Float64",
            "row_count_ratio": "Float64",
        }
    )
    run = gate.validate(frame, gate.expectations_of(suite, "file"), {"reject_threshold": float(threshold)})
    return frame, run


def findings(
    frame: Any, file_run: gate.SuiteRun
) -> tuple[dict[int, list[gate.ExpectationRun]], dict[int, list[str]]]:
    """Per file: the critical expectations it failed, and the warnings it raised."""
    failed_by_file: dict[int, list[gate.ExpectationRun]] = {}
    warn_by_file: dict[int, list[str]] = {}
    for run in file_run.results:
        if run.success:
            continue
        for idx in run.unexpected_index:
            fid = int(frame.at[idx, "_file_id"])
            if run.severity == "critical":
                failed_by_file.setdefault(fid, []).append(run)
            else:
                value = frame.at[idx, run.column] if run.column in frame else None
                warn_by_file.setdefault(fid, []).append(
                    f"{run.rule}: observed {value}, expected {run.expected}"
                )
    return failed_by_file, warn_by_file


def judge(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    batch: Batch,
    staged: Staged,
    counts: Counts,
    facts: list[dict[str, Any]],
    frame: Any,
    file_run: gate.SuiteRun,
) -> tuple[list[FileOutcome], list[int], list[tuple[int, QualityReport]]]:
    """The outcome of every file, the file ids to load, and the files to quarantine with their report."""
    failed_by_file, warn_by_file = findings(frame, file_run)
    threshold = settings.source(batch.source).reject_threshold
    outcomes: list[FileOutcome] = []
    quarantines: list[tuple[int, QualityReport]] = []
    load_ids: list[int] = []
    for fid, f in enumerate(batch.files):
        n, bad = counts.get(fid, (facts[fid]["rows_in_file"], 0))
        o = batch.outcome(fid, "loaded", rows_in_file=int(n), warnings=warn_by_file.get(fid, []))
        if fid in failed_by_file:
            report = quality_report(con, batch, fid, staged, facts[fid], failed_by_file[fid], threshold)
            report.warnings = o.warnings
            target = quarantine.quarantine_target(settings, f, batch.shas[fid])
            report.quarantine_path = str(target)
            o.status, o.report, o.quarantine_path = "quarantined", report, str(target)
            o.rows_rejected = int(bad) if staged.plans[fid].ok else 0
            o.message = report.summary()
            quarantines.append((fid, report))
        else:
            o.rows_rejected, o.rows_loaded = int(bad), int(n - bad)
            o.status = "loaded_with_rejects" if bad else "loaded"
            o.message = load_message(con, fid, n, bad)
            load_ids.append(fid)
        outcomes.append(o)
    return outcomes, load_ids, quarantines


def load_message(con: duckdb.DuckDBPyConnection, fid: int, n: int, bad: int) -> str:
    if not bad:
        return f"{n} rows loaded"
    by_rule = con.execute(
        "select final_rule, count(*) from _ing_rows where file_id = ? and final_rule is not null "
        "group by all order by 2 desc, 1",
        [fid],
    ).fetchall()
    rules_text = ", ".join(f"{r} x{c}" for r, c in by_rule)
    return f"{n - bad} rows loaded, {bad} rejected ({rules_text})"


def quality_report(
    con: duckdb.DuckDBPyConnection,
    batch: Batch,
    fid: int,
    staged: Staged,
    facts: dict[str, Any],
    failed: list[gate.ExpectationRun],
    threshold: float,
) -> QualityReport:
    """The report of a quarantined file: the failed checks, the row rules behind its rejects, samples."""
    checks: list[QualityCheck] = []
    kind = "raw gate failed"
    for run in failed:
        kind = KIND_BY_RULE.get(run.rule, kind) if kind == "raw gate failed" else kind
        if run.rule == "header_matches_contract":
            checks.extend(staged.plans[fid].checks)
        else:
            checks.append(_failed_check(con, fid, staged, run, facts, threshold))
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
    return file_report(
        batch,
        fid,
        kind,
        checks,
        sample_rows=samples,
        rows_in_file=int(facts["rows_in_file"]) if facts["rows_in_file"] is not None else None,
        rows_rejected=con.execute(
            "select count(final_rule) from _ing_rows where file_id = ?", [fid]
        ).fetchone()[0],
    )


def file_report(
    batch: Batch, fid: int, kind: str, checks: list[QualityCheck], **fields: Any
) -> QualityReport:
    """The report of file ``fid`` of ``batch``: its source, day, path, sha256 and batch id filled in."""
    f = batch.files[fid]
    return QualityReport(
        kind=kind,
        source=batch.source,
        day=f.day.isoformat(),
        source_file=f.rel_path,
        sha256=batch.shas[fid],
        batch_id=batch.batch_ids[fid],
        checks=checks,
        **fields,
    )


def _failed_check(
    con: duckdb.DuckDBPyConnection,
    fid: int,
    staged: Staged,
    run: gate.ExpectationRun,
    facts: dict[str, Any],
    threshold: float,
) -> QualityCheck:
    """A failed file expectation as a check a person reads (observed vs expected in words)."""
    observed = facts.get(run.column) if run.column else None
    check = QualityCheck(run.rule, observed=observed, expected=run.expected)
    if run.rule == "non_empty_file":
        check.observed = f"no header and no rows ({staged.facts[fid].bytes} bytes)"
        check.expected = "a header line (and data rows)"
    elif run.rule == "utf8_encoding":
        path = con.execute("select path from _ing_files where file_id = ?", [fid]).fetchone()[0]
        check.observed, check.expected = describe_encoding(Path(path)), "UTF-8 (with or without BOM)"
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
    return check


def refuse_whole_batches(
    settings: Settings,
    batch: Batch,
    outcomes: list[FileOutcome],
    load_ids: list[int],
    quarantines: list[tuple[int, QualityReport]],
) -> list[int]:
    """A multi-part export is one batch: one refused part quarantines every part of it.

    The good parts get a report naming the refused part, its lines and rules; the refused part's
    report names the parts quarantined with it. Returns the file ids still to load.
    """
    refused = {fid: report for fid, report in quarantines}
    members: dict[str, list[int]] = {}
    for fid, batch_id in enumerate(batch.batch_ids):
        members.setdefault(batch_id, []).append(fid)
    withheld: set[int] = set()
    for fids in members.values():
        bad = [fid for fid in fids if fid in refused]
        if len(fids) < 2 or not bad:
            continue
        names = ", ".join(batch.files[fid].rel_path for fid in bad)
        for fid in fids:
            if fid in refused:
                others = [batch.files[o].rel_path for o in fids if o != fid]
                refused[fid].warnings.append(
                    f"multi-part batch {batch.batch_ids[fid]}: its other parts were quarantined with it "
                    f"({', '.join(others)})"
                )
                outcomes[fid].message = refused[fid].summary()
                continue
            o = outcomes[fid]
            report = _withheld_part_report(settings, batch, fid, names, [refused[b] for b in bad])
            report.rows_in_file, report.rows_rejected = o.rows_in_file, o.rows_rejected
            o.status, o.report, o.quarantine_path = "quarantined", report, report.quarantine_path
            o.rows_loaded, o.message = 0, report.summary()
            quarantines.append((fid, report))
            withheld.add(fid)
    return [fid for fid in load_ids if fid not in withheld]


def _withheld_part_report(
    settings: Settings, batch: Batch, fid: int, names: str, bad: list[QualityReport]
) -> QualityReport:
    f = batch.files[fid]
    target = quarantine.quarantine_target(settings, f, batch.shas[fid])
    checks = [
        QualityCheck(
            "multi_part_batch",
            observed=f"part {r.source_file} refused: {', '.join(r.rules)} ({r.kind})",
            expected="every part of the day's export accepted",
            lines=r.lines,
            detail=f"see {Path(r.quarantine_path or r.source_file).name}.report.md beside this file",
        )
        for r in bad
    ]
    return file_report(
        batch,
        fid,
        bad[0].kind,
        checks,
        quarantine_path=str(target),
        warnings=[f"this part is fine on its own; it is quarantined with {names} so the day loads whole"],
    )
