"""The served publication as the daily gate's basis for the days no load touched (DECISIONLOG 74).

The daily gate judges, on every day, the net revenue per day of ``fct_orders``, the attributed
revenue per day of the funnel and the number of orders against the latest raw orders
(:mod:`.totals`). Finding the latest version of *every* raw order for that was most of its cost
(8 s of 18 s at 10M orders). But the served publication passed the gate, and on a day no load
touched since, the raw orders are what they were when it did. So:

- ``gate_served_days`` holds, per day, the served ``fct_orders``' orders, revenue-counted orders
  and net revenue, and the served funnel's attributed revenue; ``gate_mart_days`` the same of the
  build being gated;
- a day whose figures differ between the two in any way (compared exactly: the sums are decimals)
  is **moved**: it joins the touched days and is judged like them, per order and in total, against
  the latest raw orders (a dbt fault on an untouched day; a load that landed between the served
  run's build and its publication; a changed reporting currency or timezone moves every day);
- every other day takes its expected totals from the served publication, which the build equals
  exactly there, and which the gate found equal to raw when it published it.

So every day is still judged, and the newest raw versions are found only for the orders with a
version on a judged day. When the serving file, its tables or columns cannot be read, the gate
says why and finds the newest version of every raw order, as before (:mod:`.raw_latest`).
"""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any

import duckdb

from growthops.config import Settings
from growthops.gate.marts import COLUMNS, MARTS_SCHEMA
from growthops.gate.raw_latest import REVENUE_STATUSES_SQL
from growthops.logs import get_logger
from growthops.sql import literal, quote

log = get_logger(__name__)

SERVED_DAYS = "gate_served_days"
MART_DAYS = "gate_mart_days"
SERVED_TEMP = (SERVED_DAYS, MART_DAYS)
_CATALOG = "gate_served"  # the serving file, attached read-only while its days are read
# (day, orders, counted, revenue, funnel_revenue): exact decimal sums, compared with ``is distinct from``
_DAY_COLUMNS = (
    "day date, orders bigint, counted bigint, revenue decimal(38, 4), funnel_revenue decimal(38, 4)"
)


def per_day_sql(prefix: str = "") -> str:
    """Per day of a publication's ``fct_orders`` and funnel (``prefix``: the catalog, with its dot)."""
    c = COLUMNS
    counted = f"{quote(c.order_status)} in ({REVENUE_STATUSES_SQL})"
    return f"""
        with orders as (
            select {quote(c.order_date)} as day, count(*) as orders,
                   count(*) filter (where {counted}) as counted,
                   sum({quote(c.order_net_revenue)}) filter (where {counted}) as revenue
            from {prefix}{MARTS_SCHEMA}.{quote(c.orders)} group by 1
        ),
        funnel as (
            select {quote(c.funnel_date)} as day, sum({quote(c.funnel_revenue)}) as funnel_revenue
            from {prefix}{MARTS_SCHEMA}.{quote(c.funnel)} group by 1
        )
        select coalesce(orders.day, funnel.day) as day,
               coalesce(orders.orders, 0) as orders,
               coalesce(orders.counted, 0) as counted,
               coalesce(orders.revenue, 0) as revenue,
               coalesce(funnel.funnel_revenue, 0) as funnel_revenue
        from orders full outer join funnel on orders.day = funnel.day
        where coalesce(orders.day, funnel.day) is not null
    """


def read_served_days(con: duckdb.DuckDBPyConnection, settings: Settings) -> str | None:
    """Temp table ``gate_served_days`` of the served publication; None, or why it cannot be read."""
    con.execute(f"create or replace temp table {SERVED_DAYS} ({_DAY_COLUMNS})")
    try:
        if settings.warehouse_target == "postgres":
            rows = _postgres_days(settings)
            if rows:
                con.executemany(f"insert into {SERVED_DAYS} values (?, ?, ?, ?, ?)", rows)
        else:
            _duckdb_days(con, settings)
    except Exception as exc:  # unreadable or another shape: the basis is raw, for every day
        con.execute(f"drop table if exists temp.{SERVED_DAYS}")
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return None


def _duckdb_days(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    path = settings.serving_path
    if not path.exists():
        raise FileNotFoundError(f"no serving file at {path}")
    con.execute(f"attach {literal(str(path))} as {_CATALOG} (read_only)")
    try:
        con.execute(f"insert into {SERVED_DAYS} {per_day_sql(_CATALOG + '.')}")
    finally:
        with contextlib.suppress(duckdb.Error):
            con.execute(f"detach {_CATALOG}")


def _postgres_days(settings: Settings) -> list[tuple[Any, ...]]:
    from growthops.build.postgres import connection

    with connection(settings, autocommit=True) as pg, pg.cursor() as cur:
        cur.execute(per_day_sql())
        return cur.fetchall()


def moved_days(con: duckdb.DuckDBPyConnection, touched: str) -> tuple[date, ...]:
    """Add to ``touched`` (a temp table of days) every other day whose build figures differ from
    the served publication's (``gate_served_days``); the days added, in order."""
    con.execute(f"create or replace temp table {MART_DAYS} as {per_day_sql()}")
    rows = con.execute(
        f"""
        select coalesce(build.day, served.day) as day
        from {MART_DAYS} as build
        full outer join {SERVED_DAYS} as served on build.day = served.day
        where coalesce(build.day, served.day) not in (select day from {touched})
          and (
            build.day is null or served.day is null
            or build.orders <> served.orders
            or build.counted <> served.counted
            or build.revenue <> served.revenue
            or build.funnel_revenue <> served.funnel_revenue
          )
        order by 1
        """
    ).fetchall()
    moved = tuple(day for (day,) in rows)
    if moved:
        con.executemany(f"insert into {touched} values (?)", [(day,) for day in moved])
    return moved


def served_order_days_sql(touched: str, reporting_currency: str) -> str:
    """Rows of ``gate_order_days`` (day, currency, orders, rows, net_revenue) for every day not in
    ``touched``: the served publication's, in the reporting currency."""
    return f"""
        select day, {literal(reporting_currency.upper())} as currency, orders, counted as rows,
               cast(revenue as double) as net_revenue
        from {SERVED_DAYS}
        where day not in (select day from {touched})
    """
