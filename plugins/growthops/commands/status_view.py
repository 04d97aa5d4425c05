"""How ``growthops status`` reads for a person: the per-source table, then one line per thing that
needs attention, each with the command to run next (:mod:`growthops.next_steps`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from growthops.commands.status import SourceStatus, Status


def _shown(items: list[str], limit: int = 10) -> str:
    return ", ".join(items[:limit]) + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


def _source_lines(s: SourceStatus, report_summaries: dict[str, str], commands: dict[str, str]) -> list[str]:
    from growthops import next_steps
    from growthops.contracts import CONTRACTS

    out = []
    if s.freshness in {"late", "stale"}:
        behind = f"{s.days_behind} day(s) behind" if s.days_behind is not None else "nothing loaded yet"
        hint = (
            "a delivered file was refused, see below"
            if s.quarantined_files or s.failures or s.unexpected_files
            else "is the export in the landing folder?"
        )
        out.append(
            f"  {s.freshness.upper()}: {s.source} expected through {s.expected_day}, "
            f"last loaded {s.last_day or 'never'} ({behind}): {hint}"
        )
    for q in s.quarantined_files:
        src, day = q.split("/")[0], q.split("/")[1]
        out.append(f"  quarantined: {q} (report: quarantine/{q}.report.md)")
        out += [f"      next: {c}" for c in next_steps.quarantined(src, day)[:1]]
    for q in s.resolved_quarantine:
        out.append(f"  resolved: {q} (a later file of that export was loaded; kept for the record)")
    for f in s.failures:
        out.append(f"  FAILED load: {f}")
        if f in report_summaries:
            out.append(f"      {report_summaries[f][:300]}")
        if f in commands:
            out.append(f"      next: {commands[f]}")
    accepted = ", ".join(CONTRACTS[s.source].patterns)
    for u in s.unexpected_files[:20]:
        day = u.split("/")[1] if u.count("/") >= 2 else "<day>"
        out.append(f"  UNEXPECTED FILE (not loaded): {u} — accepted names: {accepted}")
        out += [f"      next: {c}" for c in next_steps.unexpected_file(s.source, day, u, accepted)]
    if len(s.unexpected_files) > 20:
        out.append(f"  ... and {len(s.unexpected_files) - 20} more unexpected files")
    if s.missing_days:
        out.append(f"  MISSING DAYS (inside the loaded range, nothing loaded): {_shown(s.missing_days)}")
        out += [f"      next: {c}" for c in next_steps.missing_day(s.source, s.missing_days[0])]
    if s.future_days:
        out.append(f"  FUTURE DAYS (dated after today: exporter clock skew?): {_shown(s.future_days)}")
        out += [f"      next: {c}" for c in next_steps.future_day(s.source, s.future_days[0])]
    return out


def _marts_lines(status: Status) -> list[str]:
    from growthops import next_steps

    m = status.marts
    out = [""]
    if m.serving_problem:
        out.append(f"marts: SERVING FILE UNREADABLE: {m.serving_problem}")
        if "held read-write" in m.serving_problem:
            holder = m.serving_problem.rsplit(": ", 1)[-1]
            out += [f"      next: {c}" for c in next_steps.lock_held("serving.duckdb", holder)]
        else:
            out.append(f"      next: {next_steps.damaged_serving()}")
    elif m.published_run_id:
        out.append(
            f"marts: BI reads run {m.published_run_id} published {m.published_at} "
            f"({m.source_batches} source batches, {m.version_file})"
        )
        if m.batches_waiting:
            out.append(
                f"  {m.batches_waiting} batch(es) loaded since then are waiting for the next transform"
            )
    else:
        out.append("marts: NOTHING PUBLISHED yet")
    if m.rebuilt_in_full_next:  # known once something is published (collect_status)
        out.append(f"  the next build rebuilds in full {m.rebuilt_in_full_next}")
    if m.build_lost:
        out.append(f"  BUILD DATABASE LOST: {m.build_lost}")
        out.append(
            "      next: growthops backfill --start <first export day> --end <last export day>"
            "   # rebuild raw from the exports still in landing"
        )
    if m.rolled_back_from:
        out.append(
            f"  BI READS A ROLLED-BACK VERSION: the newest publication (run {m.rolled_back_from}) was rolled back"
        )
        out += [f"      next: {c}" for c in next_steps.rolled_back(m.rolled_back_from)]
    for f in m.failed_builds:
        out.append(f"  FAILED build after the publication: {f}")
        if f in status.report_summaries:
            out.append(f"      {status.report_summaries[f][:300]}")
        if f in status.report_commands:
            out.append(f"      next: {status.report_commands[f]}")
    return out


def render(status: Status) -> str:
    from growthops.commands.summary import table

    rows = [
        [
            s.source,
            s.last_day or "-",
            s.expected_day or "-",
            s.freshness.upper() if s.freshness != "ok" else "ok",
            str(len(s.quarantined_files)),
            f"{s.rejected_rows:,}",
            str(len(s.failures)),
            str(len(s.unexpected_files) + len(s.missing_days) + len(s.future_days)),
            s.last_batch or "-",
        ]
        for s in status.sources
    ]
    headers = ["source", "last day", "expected", "freshness", "quarantined"]
    headers += [f"rejects ({status.reject_days}d)", "failed loads", "gaps/unexpected", "last batch"]
    out = [f"growthops status as of {status.as_of}", "", table(headers, rows)]
    if status.warehouse_note:
        out += ["", f"note: {status.warehouse_note}"]
    for s in status.sources:
        out += _source_lines(s, status.report_summaries, status.report_commands)
    out += _marts_lines(status)
    out += ["", "NEEDS ATTENTION" if status.needs_attention else "all good"]
    return "\n".join(out)
