"""Data-quality queries: publications, raw gate outcomes, rejects and quarantines — read from the
serving file's schema ``meta`` (``publish_log``, and ``load_ledger`` / ``rejects_summary`` that
every publication copies from the build DB; see ``growthops.serve.publish``).

A version published before those two tables existed has only the publish log: the page then
says so instead of showing empty charts.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from growthops.report.queries import META, RECENT_RUNS, RelationQuery, Table, columns_of, query


@dataclass(frozen=True)
class Quality:
    runs: Table  # one row per publication in the lineage (newest last), with its file outcomes
    has_ledger: bool
    rejects: Table | None  # source x rule x column
    refused: Table | None  # quarantined / failed files


def published_run(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """(run_id, published_at) of the version this file is (its publish log's newest row)."""
    if not columns_of(con, META, "publish_log"):
        return None
    row = con.execute(
        f"select run_id, published_at::varchar from {META}.publish_log "
        "order by published_at desc, run_id desc limit 1"
    ).fetchone()
    return (row[0], row[1]) if row else None


def _runs(con: duckdb.DuckDBPyConnection, has_ledger: bool) -> Table:
    """Each publication with the files whose load finished since the previous publication."""
    ledger_join = (
        f"""left join {META}.load_ledger as l
              on l.finished_at <= r.published_at and (r.previous_at is null or l.finished_at > r.previous_at)"""
        if has_ledger
        else "left join (select null::varchar as status, null::bigint as rows_in_file, "
        "null::bigint as rows_loaded, null::bigint as rows_rejected, null::varchar as batch_id) as l on false"
    )
    return query(
        con,
        f"""
        with runs as (
            select run_id, published_at, len(source_batches) as source_batches,
                   lag(published_at) over (order by published_at, run_id) as previous_at
            from {META}.publish_log
        ),
        recent as (select * from runs order by published_at desc limit {RECENT_RUNS})
        select r.run_id,
               r.published_at::varchar as published_at,
               'passed' as mart_gate,
               r.source_batches,
               count(l.batch_id) as files,
               count(*) filter (where l.status = 'loaded') as loaded,
               count(*) filter (where l.status = 'loaded_with_rejects') as loaded_with_rejects,
               count(*) filter (where l.status = 'quarantined') as quarantined,
               count(*) filter (where l.status = 'failed') as failed,
               coalesce(sum(l.rows_in_file), 0)::bigint as rows_in_file,
               coalesce(sum(l.rows_loaded), 0)::bigint as rows_loaded,
               coalesce(sum(l.rows_rejected) filter (where l.status like 'loaded%'), 0)::bigint as rows_rejected,
               coalesce(sum(l.rows_in_file) filter (where l.status = 'quarantined'), 0)::bigint
                   as rows_quarantined
        from recent as r
        {ledger_join}
        group by r.run_id, r.published_at, r.source_batches
        order by r.published_at, r.run_id
        """,
    )


# Rejected rows by source x rule x column (None for a version published before the table existed).
_rejects = RelationQuery(
    "rejects_summary",
    f"""
    select source, rule, coalesce(column_name, '') as column_name,
           count(distinct batch_id) as files,
           sum(rejected_rows)::bigint as rejected_rows,
           min(day)::varchar as first_day,
           max(day)::varchar as last_day
    from {META}.rejects_summary
    group by all
    order by rejected_rows desc, source, rule, column_name
    """,
    schema=META,
)


def _refused(con: duckdb.DuckDBPyConnection) -> Table:
    return query(
        con,
        f"""
        select source, day::varchar as day, file_name, status,
               coalesce(rows_in_file, 0)::bigint as rows_in_file,
               coalesce(message, '') as message,
               coalesce(quarantine_path, '') as quarantine_path,
               superseded_by is not null as is_replaced
        from {META}.load_ledger
        where status in ('quarantined', 'failed')
        order by day desc, source, file_name
        """,
    )


def data_quality(con: duckdb.DuckDBPyConnection) -> Quality | None:
    """The data-quality page's tables (None when the file has no publish log at all)."""
    if not columns_of(con, META, "publish_log"):
        return None
    has_ledger = bool(columns_of(con, META, "load_ledger"))
    return Quality(
        runs=_runs(con, has_ledger),
        has_ledger=has_ledger,
        rejects=_rejects(con),
        refused=_refused(con) if has_ledger else None,
    )
