"""The daily gate's cheap global checks, over every day (:mod:`.scope` says which days the
per-row checks judge).

The raw side is ``gate_order_days`` of :func:`growthops.gate.raw_latest.prepare_raw`: the latest
version of every order (one hash aggregate), summed per (day, currency) before conversion. It
costs a fraction of the per-order reconciliations and still compares, for every day:

- net revenue per day of ``fct_orders`` and ``attributed_revenue`` of the funnel mart with raw's;
- the number of orders: raw's distinct order keys = rows of ``fct_orders`` = its distinct keys.

Spend per day is always judged over every day (:data:`growthops.gate.reconcile.SPEND`: the
channel and cost rows are few).
"""

from __future__ import annotations

import duckdb

from growthops.gate.marts import COLUMNS, MARTS_SCHEMA
from growthops.gate.raw_latest import REVENUE_STATUSES_SQL
from growthops.gate.result import CheckResult
from growthops.sql import quote

# (day, amount, rows, unconverted) of the latest raw orders, every day
ORDER_DAYS_SQL = (
    "select day, sum(net_revenue) as amount, sum(rows) as rows, "
    "sum(rows) filter (where net_revenue is null) as unconverted from gate_order_days group by 1"
)
ORDER_COUNT = "every order exactly once in fct_orders (counts, every day)"


def orders_per_day_sql() -> str:
    """Per-day net revenue ``(day, amount)`` of ``fct_orders`` (valid and refunded orders)."""
    c = COLUMNS
    return (
        f"select {quote(c.order_date)} as day, sum(case when {quote(c.order_status)} in "
        f"({REVENUE_STATUSES_SQL}) then cast({quote(c.order_net_revenue)} as double) else 0.0 end) "
        f"as amount from {MARTS_SCHEMA}.{quote(c.orders)} group by 1"
    )


def check_order_count(con: duckdb.DuckDBPyConnection) -> CheckResult:
    """Raw's distinct order keys = rows of fct_orders = distinct keys of fct_orders (no join)."""
    c = COLUMNS
    key = quote(c.order_key)
    raw_orders, mart_rows, mart_keys = con.execute(
        f"""
        select
            (select coalesce(sum(orders), 0) from gate_order_days),
            count(*), count(distinct {key})
        from {MARTS_SCHEMA}.{quote(c.orders)}
        """
    ).fetchone()
    observed = {"rows": int(mart_rows), "distinct_keys": int(mart_keys)}
    return CheckResult(
        name=ORDER_COUNT,
        kind="reconciliation",
        table=f"{c.orders}.{c.order_key}",
        passed=int(raw_orders) == mart_rows == mart_keys,
        observed=observed,
        expected={"rows": int(raw_orders), "distinct_keys": int(raw_orders)},
        details="the raw order keys, in counts (the keys themselves are compared on the touched days)",
    )
