"""Readable summaries of the published marts, read from the serving file (read-only)."""

from __future__ import annotations

from pathlib import Path

import duckdb


def _fmt(value, money: bool = False, pct: bool = False) -> str:
    if value is None:
        return "-"
    if pct:
        return f"{float(value) * 100:.1f}%"
    if money:
        return f"{float(value):,.2f}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(
        h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths, strict=True))
    )
    out = [line, "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return "\n".join(out)


def funnel_by_channel(con: duckdb.DuckDBPyConnection, currency: str) -> str:
    rows = con.execute(
        """
        select
            channel,
            sum(spend) as spend,
            sum(signups) as signups,
            sum(new_customers) as new_customers,
            sum(spend) / nullif(sum(new_customers), 0) as cac,
            sum(attributed_revenue) / nullif(sum(spend), 0) as roas,
        from marts.mart_channel_funnel_daily
        group by channel
        order by spend desc nulls last, channel
        """
    ).fetchall()
    body = [
        [ch, _fmt(sp, money=True), _fmt(int(su)), _fmt(int(nc)), _fmt(cac, money=True), _fmt(roas)]
        for ch, sp, su, nc, cac, roas in rows
    ]
    return table(["channel", f"spend ({currency})", "signups", "new customers", "CAC", "ROAS"], body)


def cohort_retention(con: duckdb.DuckDBPyConnection, cohorts: int = 6, periods: int = 6) -> str:
    rows = con.execute(
        """
        with recent as (
            select distinct cohort_month from marts.mart_cohort_retention
            where channel = 'all' order by cohort_month desc limit ?
        )
        select r.cohort_month, r.cohort_size, r.months_since_first_order, r.retention_rate
        from marts.mart_cohort_retention as r
        inner join recent using (cohort_month)
        where r.channel = 'all' and r.months_since_first_order < ?
        order by r.cohort_month, r.months_since_first_order
        """,
        [cohorts, periods],
    ).fetchall()
    by_cohort: dict = {}
    for month, size, period, rate in rows:
        entry = by_cohort.setdefault(month, {"size": size, "rates": {}})
        entry["rates"][period] = rate
    headers = ["cohort", "customers", *[f"m{p}" for p in range(periods)]]
    body = [
        [str(m)[:7], _fmt(int(e["size"])), *[_fmt(e["rates"].get(p), pct=True) for p in range(periods)]]
        for m, e in sorted(by_cohort.items())
    ]
    return table(headers, body)


def marts_summary(serving_path: Path, currency: str) -> str:
    con = duckdb.connect(str(serving_path), read_only=True)
    try:
        counts = con.execute(
            "select table_name, estimated_size from duckdb_tables() where schema_name = 'marts' order by 1"
        ).fetchall()
        parts = [
            "Funnel per channel (all days):",
            funnel_by_channel(con, currency),
            "",
            "Cohort retention (channel = all, share of the cohort active in month N after its first order):",
            cohort_retention(con),
            "",
            "Mart tables: " + ", ".join(f"{name} ({rows:,} rows)" for name, rows in counts),
        ]
    finally:
        con.close()
    return "\n".join(parts)
