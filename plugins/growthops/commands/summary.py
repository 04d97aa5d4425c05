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


def _channel_totals(
    con: duckdb.DuckDBPyConnection, mart: str, sums: tuple[str, ...], *more: str, order: str
) -> list[tuple]:
    """One row per channel of ``marts.<mart>``: the channel, the sum of each column of ``sums``,
    then the select items ``more``; ordered by ``order``."""
    items = ", ".join([*(f"sum({c}) as {c}" for c in sums), *more])
    return con.execute(
        f"select channel, {items} from marts.{mart} group by channel order by {order}"
    ).fetchall()


def funnel_by_channel(con: duckdb.DuckDBPyConnection, currency: str) -> str:
    rows = _channel_totals(
        con,
        "mart_channel_funnel_daily",
        ("spend", "signups", "new_customers"),
        "sum(spend) / nullif(sum(new_customers), 0) as cac",
        "sum(attributed_revenue) / nullif(sum(spend), 0) as roas",
        order="spend desc nulls last, channel",
    )
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


def funnel_stages(con: duckdb.DuckDBPyConnection) -> str:
    """signup → engaged → customer → repeat per channel, over every signup month."""
    stages = ("signups", "engaged", "customers", "repeat_customers")
    rows = _channel_totals(con, "mart_funnel_stages", stages, order="signups desc, channel")
    body = [
        [
            ch,
            _fmt(int(su)),
            _fmt(int(en)),
            _fmt(int(cu)),
            _fmt(int(rp)),
            _fmt(en / su if su else None, pct=True),
            _fmt(cu / su if su else None, pct=True),
            _fmt(rp / cu if cu else None, pct=True),
        ]
        for ch, su, en, cu, rp in rows
    ]
    headers = ["channel", "signups", "engaged", "customers", "repeat", "engaged %", "customer %", "repeat %"]
    return table(headers, body)


def growth_accounting(con: duckdb.DuckDBPyConnection, months: int = 6) -> str:
    """Active customers and where they came from, last months (channel = all)."""
    rows = con.execute(
        """
        select activity_month, is_complete, active_customers, new_customers, retained_customers,
            resurrected_customers, churned_customers, quick_ratio, net_revenue,
        from marts.mart_customer_activity_monthly
        where channel = 'all'
        order by activity_month desc
        limit ?
        """,
        [months],
    ).fetchall()
    body = [
        [
            str(m)[:7] + ("" if done else " (so far)"),
            *[_fmt(None if v is None else int(v)) for v in (act, new, ret, res, chu)],
            _fmt(qr),
            _fmt(rev, money=True),
        ]
        for m, done, act, new, ret, res, chu, qr, rev in reversed(rows)
    ]
    headers = ["month", "active", "new", "retained", "resurrected", "churned", "quick ratio", "net revenue"]
    return table(headers, body)


def unit_economics(con: duckdb.DuckDBPyConnection) -> str:
    """CAC, LTV and payback per channel over every acquisition month (channel = all is blended)."""
    rows = _channel_totals(
        con,
        "mart_acquisition_unit_economics",
        ("spend", "new_customers"),
        "sum(spend) / nullif(sum(new_customers) - sum(new_customers_unknown_spend), 0) as cac",
        "min(payback_month) as best_payback_month",
        order="channel = 'all', spend desc nulls last, channel",
    )
    body = [
        [ch, _fmt(sp, money=True), _fmt(int(nc)), _fmt(cac, money=True), _fmt(pb)]
        for ch, sp, nc, cac, pb in rows
    ]
    return table(["channel", "spend", "new customers", "CAC", "best payback month"], body)


def recall_lift(con: duckdb.DuckDBPyConnection, campaigns: int = 5) -> str:
    """Recall campaigns with a holdout: incremental reactivations with their 95 % bounds."""
    rows = con.execute(
        """
        select campaign_name, targeted_contacts, holdout_contacts, reactivation_rate_targeted,
            reactivation_rate_holdout, incremental_reactivations, incremental_reactivations_lower,
            incremental_reactivations_upper, is_significant,
        from marts.mart_recall_campaign_summary
        order by holdout_contacts > 0 desc, targeted_contacts desc
        limit ?
        """,
        [campaigns],
    ).fetchall()
    body = [
        [
            str(name),
            _fmt(int(t)),
            _fmt(int(h)),
            _fmt(tr, pct=True),
            _fmt(hr, pct=True),
            _fmt(inc),
            "-" if lo is None else f"[{float(lo):,.1f}, {float(hi):,.1f}]",
            "yes" if sig else ("-" if sig is None else "no"),
        ]
        for name, t, h, tr, hr, inc, lo, hi, sig in rows
    ]
    headers = [
        "campaign",
        "targeted",
        "holdout",
        "treated %",
        "holdout %",
        "incremental",
        "95% CI",
        "significant",
    ]
    return table(headers, body)


OPTIONAL_SECTIONS = (
    ("mart_customer_activity_monthly", "Growth accounting (channel = all):", growth_accounting),
    ("mart_acquisition_unit_economics", "Unit economics per acquisition channel:", unit_economics),
    ("mart_recall_campaign_summary", "Recall campaigns (lift against the holdout):", recall_lift),
)


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
            "Funnel stages (signup → engaged → customer → repeat, all signup months):",
            funnel_stages(con),
            "",
        ]
        names = {name for name, _ in counts}
        for mart, title, render in OPTIONAL_SECTIONS:
            if mart in names:
                try:
                    parts += [title, render(con), ""]
                except duckdb.Error as exc:  # a mart of another shape: say so, keep the summary
                    parts += [title, f"(not shown: {exc})", ""]
        parts += [
            "Mart tables: " + ", ".join(f"{name} ({rows:,} rows)" for name, rows in counts),
        ]
    finally:
        con.close()
    return "\n".join(parts)
