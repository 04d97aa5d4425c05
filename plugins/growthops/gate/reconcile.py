"""Reconciliations: the marts against the raw tables (SQL here, independent of the dbt code).

Spend of the latest raw channel rows plus the latest acquisition cost rows (SPEC §11) in the
reporting currency = spend in ``mart_channel_funnel_daily`` (per day); net revenue of the latest raw orders = net revenue in
``fct_orders`` (per order) and ``attributed_revenue`` of ``mart_channel_funnel_daily`` (per day);
every raw order key exactly once in ``fct_orders``; every currency has a rate. The raw side is
:func:`growthops.gate.raw_latest.prepare_raw`. A query that crashes is a validator error (not
judged); a check whose mart table or columns are missing is not run (the schema checks fail).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import duckdb

from growthops.config import Settings
from growthops.gate.marts import COLUMNS, MARTS_SCHEMA, SAMPLE_ROWS, fetch_samples
from growthops.gate.raw_latest import RAW_TEMP_TABLES, REVENUE_STATUSES_SQL, prepare_raw
from growthops.gate.result import CheckResult
from growthops.gate.scope import FULL, TOUCHED_DAYS, GateScope, mart_orders_view
from growthops.gate.served import served_order_days_sql
from growthops.gate.totals import ORDER_COUNT, ORDER_DAYS_SQL, check_order_count, orders_per_day_sql
from growthops.sql import quote

# Money is decimal(18,4) in the marts: each converted amount may be rounded once to 4 places
# (half a unit, 0.00005) and each rate to 10; allow one unit (0.0001) per raw row summed, plus a
# relative 1e-9 for the rate.
ROUNDING_PER_ROW = 0.0001
RELATIVE_TOLERANCE = 1e-9

FX_NAME = "every currency has a rate on or before the day"
KEYS_NAME = "every raw order key is exactly once in fct_orders"
REVENUE_NAME = "net revenue equals that of the latest raw orders"


def _tolerance(rows: int, amount: float | None) -> float:
    return ROUNDING_PER_ROW * max(rows, 1) + RELATIVE_TOLERANCE * abs(amount or 0.0)


def check_fx_available(con: duckdb.DuckDBPyConnection, settings: Settings) -> CheckResult:
    cur = con.execute(
        """
        select 'channel' as source, report_date as day, currency, count(*) as rows,
               min(source_file) as source_file, min(source_line) as source_line
        from gate_channel where usd_rate is null or reporting_usd_rate is null
        group by all
        union all
        select 'orders', order_date, currency, count(*), min(source_file), min(source_line)
        from gate_orders where usd_rate is null or reporting_usd_rate is null
        group by all
        order by rows desc, day
        """
    )
    gaps = fetch_samples(cur)
    missing = sum(g["rows"] for g in gaps)
    return CheckResult(
        name=FX_NAME,
        kind="reconciliation",
        table="raw.fx_rates",
        passed=missing == 0,
        observed=f"{missing} latest raw rows without a rate"
        + (f" ({sorted({g['currency'] for g in gaps})})" if gaps else ""),
        expected=f"0 (a currency with no rate to {settings.reporting_currency} fails; never dropped or taken as 1)",
        sample_rows=gaps[:SAMPLE_ROWS],
    )


def daily_reconciliation(
    con: duckdb.DuckDBPyConnection,
    *,
    name: str,
    mart_sql: str,
    raw_sql: str,
    mart_label: str,
    raw_label: str,
    table: str,
) -> CheckResult:
    """Compare per-day totals ``(day, amount, rows)`` of a mart with those computed from raw."""
    con.execute(
        f"""
        create or replace temp table gate_daily as
        with mart as ({mart_sql}), raw as ({raw_sql})
        select
            coalesce(mart.day, raw.day) as day,
            mart.amount as mart_amount,
            raw.amount as raw_amount,
            coalesce(raw.rows, 0) as raw_rows,
            coalesce(raw.unconverted, 0) as unconverted_rows
        from mart full outer join raw on mart.day = raw.day
        """
    )
    observed, expected, rows, unconverted = con.execute(
        "select sum(mart_amount), sum(raw_amount), sum(raw_rows), sum(unconverted_rows) from gate_daily"
    ).fetchone()
    bad = fetch_samples(
        con.execute(
            f"""
            select day, mart_amount as {quote(mart_label)}, raw_amount as {quote(raw_label)},
                   coalesce(mart_amount, 0) - coalesce(raw_amount, 0) as difference, raw_rows
            from gate_daily
            where abs(coalesce(mart_amount, 0) - coalesce(raw_amount, 0))
                    > {ROUNDING_PER_ROW} * greatest(raw_rows, 1) + {RELATIVE_TOLERANCE} * abs(coalesce(raw_amount, 0))
               or unconverted_rows > 0
            order by abs(coalesce(mart_amount, 0) - coalesce(raw_amount, 0)) desc, day
            """
        )
    )
    observed = float(observed or 0.0)
    expected = float(expected or 0.0)
    total_ok = abs(observed - expected) <= _tolerance(int(rows or 0), expected)
    passed = total_ok and not bad and not unconverted
    details = f"difference {observed - expected:,.4f} over {int(rows or 0)} raw rows"
    if bad:
        details += f"; {len(bad)} days differ"
    if unconverted:
        details += f"; {int(unconverted)} raw rows have no fx rate (expected total excludes them)"
    return CheckResult(
        name=name,
        kind="reconciliation",
        table=table,
        passed=passed,
        observed=round(observed, 4),
        expected=round(expected, 4),
        details=details,
        sample_rows=bad[:SAMPLE_ROWS],
    )


def _funnel_per_day(column: str) -> str:
    """Per-day totals ``(day, amount)`` of a money column of the funnel mart."""
    c = COLUMNS
    return (
        f"select {quote(c.funnel_date)} as day, sum(cast({quote(column)} as double)) as amount "
        f"from {MARTS_SCHEMA}.{quote(c.funnel)} group by 1"
    )


@dataclass(frozen=True)
class FunnelReconciliation:
    """A money column of a mart (the funnel mart unless said), per day, against the same amount
    from the raw tables."""

    name: str
    column: str  # of the mart
    raw_sql: str  # (day, amount, rows, unconverted) from the raw temp tables
    raw_label: str  # the raw amount's name in the sample rows
    table: str = COLUMNS.funnel
    day: str = COLUMNS.funnel_date
    mart_sql: str | None = None  # (day, amount) of the mart; default: the funnel column per day


SPEND = FunnelReconciliation(
    name="spend equals the latest raw channel rows in the reporting currency",
    column=COLUMNS.funnel_spend,
    # ad-platform spend plus acquisition costs (SPEC §11)
    raw_sql=(
        "select report_date as day, sum(spend) as amount, count(*) as rows, "
        "count(*) filter (where spend is null) as unconverted "
        "from (select report_date, spend from gate_channel union all "
        "select report_date, spend from gate_costs) group by 1"
    ),
    raw_label="raw_spend",
)
# The daily gate's: every day, from the cheap per-day totals of the latest raw orders (.totals)
DAILY_FUNNEL_REVENUE = FunnelReconciliation(
    name="attributed revenue equals net revenue of the latest raw orders",
    column=COLUMNS.funnel_revenue,
    raw_sql=ORDER_DAYS_SQL,
    raw_label="raw_net_revenue",
)
# The daily gate's: net revenue per day of fct_orders, every day
ORDER_REVENUE_PER_DAY = FunnelReconciliation(
    name="net revenue per day of fct_orders equals that of the latest raw orders (every day)",
    column=COLUMNS.order_net_revenue,
    raw_sql=ORDER_DAYS_SQL,
    raw_label="raw_net_revenue",
    table=COLUMNS.orders,
    day=COLUMNS.order_date,
    mart_sql=orders_per_day_sql(),
)
FUNNEL_REVENUE = FunnelReconciliation(
    name="attributed revenue equals net revenue of the latest raw orders",
    column=COLUMNS.funnel_revenue,
    raw_sql=(
        "select order_date as day, sum(net_revenue) as amount, count(*) as rows, "
        "count(*) filter (where net_revenue is null) as unconverted "
        "from gate_orders where is_counted group by 1"
    ),
    raw_label="raw_net_revenue",
)


def check_funnel(con: duckdb.DuckDBPyConnection, check: FunnelReconciliation) -> CheckResult:
    return daily_reconciliation(
        con,
        name=check.name,
        mart_sql=check.mart_sql or _funnel_per_day(check.column),
        raw_sql=check.raw_sql,
        mart_label=f"mart_{check.column}",
        raw_label=check.raw_label,
        table=f"{check.table}.{check.column}",
    )


def check_order_revenue(con: duckdb.DuckDBPyConnection) -> CheckResult:
    """Net revenue per order (and in total) in fct_orders equals that of the latest raw version."""
    c = COLUMNS
    con.execute(
        f"""
        create or replace temp table gate_order_revenue as
        with mart as (
            select
                cast({quote(c.order_key)} as varchar) as order_id,
                {quote(c.order_status)} as status,
                case when {quote(c.order_status)} in ({REVENUE_STATUSES_SQL})
                     then cast({quote(c.order_net_revenue)} as double) else 0.0 end as net_revenue
            from gate_mart_orders
        )
        select
            coalesce(mart.order_id, raw.order_id) as order_id,
            mart.status as mart_status,
            raw.status as raw_status,
            mart.net_revenue as mart_net_revenue,
            raw.net_revenue as raw_net_revenue,
            raw.source_file,
            raw.source_line
        from mart full outer join gate_orders as raw on mart.order_id = raw.order_id
        """
    )
    observed, expected, rows = con.execute(
        "select sum(mart_net_revenue), sum(raw_net_revenue), count(raw_status) from gate_order_revenue"
    ).fetchone()
    mismatch_where = f"""
        (mart_net_revenue is null) <> (raw_net_revenue is null)
        or abs(mart_net_revenue - raw_net_revenue) > {ROUNDING_PER_ROW} + {RELATIVE_TOLERANCE} * abs(raw_net_revenue)
    """
    n_bad = con.execute(f"select count(*) from gate_order_revenue where {mismatch_where}").fetchone()[0]
    bad = fetch_samples(
        con.execute(
            f"""
            select order_id, mart_status, raw_status, mart_net_revenue, raw_net_revenue,
                   coalesce(mart_net_revenue, 0) - coalesce(raw_net_revenue, 0) as difference,
                   source_file, source_line
            from gate_order_revenue where {mismatch_where}
            order by abs(coalesce(mart_net_revenue, 0) - coalesce(raw_net_revenue, 0)) desc, order_id
            limit {SAMPLE_ROWS}
            """
        )
    )
    observed = float(observed or 0.0)
    expected = float(expected or 0.0)
    total_ok = abs(observed - expected) <= _tolerance(int(rows or 0), expected)
    return CheckResult(
        name=REVENUE_NAME,
        kind="reconciliation",
        table=f"{c.orders}.{c.order_net_revenue}",
        passed=total_ok and n_bad == 0,
        observed=round(observed, 4),
        expected=round(expected, 4),
        details=f"difference {observed - expected:,.4f}; {n_bad} orders differ (per order tolerance {ROUNDING_PER_ROW})",
        sample_rows=bad,
    )


def check_order_keys(con: duckdb.DuckDBPyConnection) -> CheckResult:
    c = COLUMNS
    key = quote(c.order_key)
    con.execute(
        f"""
        create or replace temp table gate_order_keys as
        with mart as (
            select cast({key} as varchar) as order_id, count(*) as n
            from gate_mart_orders group by 1
        )
        select
            coalesce(mart.order_id, raw.order_id) as order_id,
            coalesce(mart.n, 0) as times_in_mart,
            raw.order_id is not null as in_raw,
            raw.source_file,
            raw.source_line
        from mart full outer join gate_orders as raw on mart.order_id = raw.order_id
        """
    )
    missing, duplicated, extra = con.execute(
        """
        select
            count(*) filter (where in_raw and times_in_mart = 0),
            count(*) filter (where times_in_mart > 1),
            count(*) filter (where not in_raw)
        from gate_order_keys
        """
    ).fetchone()
    samples = fetch_samples(
        con.execute(
            f"""
            select
                case when in_raw and times_in_mart = 0 then 'missing from {c.orders}'
                     when times_in_mart > 1 then 'duplicated in {c.orders}'
                     else 'not in raw orders' end as problem,
                order_id, times_in_mart, source_file, source_line
            from gate_order_keys
            where times_in_mart <> 1 or not in_raw
            order by problem, order_id
            limit {SAMPLE_ROWS}
            """
        )
    )
    observed = {"missing": missing, "duplicated": duplicated, "not_in_raw": extra}
    return CheckResult(
        name=KEYS_NAME,
        kind="reconciliation",
        table=f"{c.orders}.{c.order_key}",
        passed=missing == 0 and duplicated == 0 and extra == 0,
        observed=observed,
        expected={"missing": 0, "duplicated": 0, "not_in_raw": 0},
        sample_rows=samples,
    )


def reconciliation_checks(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    existing: dict[str, set[str]],
    scope: GateScope = FULL,
) -> list[CheckResult]:
    """The reconciliations of ``scope``: full, or per order on the touched days plus the global
    per-day totals of :mod:`growthops.gate.totals` (see :mod:`growthops.gate.scope`)."""
    c = COLUMNS
    day = () if scope.full else (c.order_date,)  # the daily gate picks the orders by day
    per_day = (SPEND, FUNNEL_REVENUE) if scope.full else (SPEND, DAILY_FUNNEL_REVENUE, ORDER_REVENUE_PER_DAY)
    plan = [
        (FX_NAME, "raw.fx_rates", (), lambda: check_fx_available(con, settings)),
        (KEYS_NAME, c.orders, (c.order_key, *day), lambda: check_order_keys(con)),
        (
            REVENUE_NAME,
            c.orders,
            (c.order_key, *day, c.order_status, c.order_net_revenue),
            lambda: check_order_revenue(con),
        ),
        *(
            (check.name, check.table, (check.day, check.column), lambda check=check: check_funnel(con, check))
            for check in per_day
        ),
    ]
    if not scope.full:
        plan.append((ORDER_COUNT, c.orders, (c.order_key,), lambda: check_order_count(con)))
    try:
        return _run_sql_plan(con, settings, existing, plan, scope)
    finally:
        for temp in _TEMP_TABLES:
            with contextlib.suppress(duckdb.Error):
                con.execute(f"drop table if exists temp.{temp}")
        with contextlib.suppress(duckdb.Error):
            con.execute("drop view if exists temp.gate_mart_orders")


# the temp tables of the reconciliations (and of prepare_raw): dropped after the checks
_TEMP_TABLES = (*RAW_TEMP_TABLES, "gate_daily", "gate_order_revenue", "gate_order_keys")


def _crashed(name: str, table: str, exc: BaseException) -> CheckResult:
    """A reconciliation whose query crashed: a validator error (not judged), never a pass."""
    return CheckResult(
        name=name, kind="reconciliation", table=table, passed=False, error=f"{type(exc).__name__}: {exc}"
    )


def _run_sql_plan(con, settings, existing, plan, scope: GateScope) -> list[CheckResult]:
    try:
        served = None
        if not scope.full and scope.served_basis_missing is None:
            served = served_order_days_sql(TOUCHED_DAYS, settings.reporting_currency)
        prepare_raw(con, settings, None if scope.full else TOUCHED_DAYS, served=served)
        mart_orders_view(con, scope)
    except Exception as exc:
        return [_crashed(name, table, exc) for name, table, _, _ in plan]
    results = []
    for name, table, needs, run in plan:
        if needs and not set(needs) <= existing.get(table, set()):
            results.append(
                CheckResult(
                    name=name,
                    kind="reconciliation",
                    table=table,
                    passed=False,
                    observed="not run",
                    expected=f"{MARTS_SCHEMA}.{table} with columns {list(needs)}",
                    details="the mart table or its columns are missing (see the schema checks)",
                )
            )
            continue
        try:
            results.append(run())
        except Exception as exc:
            results.append(_crashed(name, table, exc))
    return results
