"""The raw side of the reconciliations, computed from the raw tables only (independent of dbt).

:func:`prepare_raw` builds temp tables of the latest raw channel rows and orders, converted to the
reporting currency, that :mod:`growthops.gate.reconcile` compares with the marts.
"""

from __future__ import annotations

import duckdb

from growthops.config import Settings
from growthops.contracts import VALID_ORDER_STATUSES
from growthops.sql import literal

# Net revenue is counted for valid and refunded orders (SPEC §3).
REVENUE_STATUSES = (*VALID_ORDER_STATUSES, "refunded")
REVENUE_STATUSES_SQL = ", ".join(literal(s) for s in REVENUE_STATUSES)  # status in (...)
# The temp tables prepare_raw creates (the reconciliations drop them with their own).
RAW_TEMP_TABLES = (
    "gate_order_files",
    "gate_newest_orders",
    "gate_fx",
    "gate_rates",
    "gate_channel",
    "gate_costs",
    "gate_orders",
    "gate_order_days",
    "gate_scope_orders",
)


def local_date_sql(column: str, timezone: str) -> str:
    """The calendar day in ``timezone`` of a UTC ``TIMESTAMP`` column (ICU only when needed)."""
    if timezone.upper() in ("UTC", "ETC/UTC", "Z", "GMT"):
        return f"cast({column} as date)"
    return f"cast(({column} at time zone 'UTC') at time zone {literal(timezone)} as date)"


def prepare_raw(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    days: str | None = None,
    *,
    served: str | None = None,
) -> None:
    """Temp tables of the latest raw channel rows and orders, converted to the reporting currency.

    Computed from the raw tables only: the newest file per (date, platform, campaign_id) and the
    newest version per order (updated_at, then the later batch); the rate of a currency is its
    latest usd_rate on or before the day (the newest file per rate day), USD being 1; the
    reporting rate usd_rate(R) likewise; order days are created_at in the reporting timezone.
    Rates are resolved once per (day, currency) pair, then hash-joined to the rows. The newest
    version of the orders is found once (``gate_newest_orders``, narrow) and read by both
    ``gate_orders`` and the per-day totals.

    ``days``: a table of days (column ``day``, the daily gate): ``gate_orders`` then holds only the
    orders with a version on one of them or without a day, and ``gate_order_days`` the net revenue
    of the latest version of the orders per day, summed per (day, currency) before conversion
    (cheap). Its other days come from raw too (the newest version of every order is found), or
    from ``served``, SQL of their rows in the served publication
    (:func:`growthops.gate.served.served_order_days_sql`): the newest version is then found for
    the scoped orders only.
    The channel and cost rows (small) are always all of them.
    """
    order_date = local_date_sql("created_at", settings.reporting_timezone)
    scoped = None if days is None else f"{order_date} in (select day from {days}) or {order_date} is null"
    _latest_rates(con)
    if scoped is not None and served is not None:
        con.execute(
            "create or replace temp table gate_scope_orders as "
            f"select distinct trim(order_id) as order_id from raw.shop_orders where {scoped}"
        )
        _newest_orders(con, order_date, "trim(raw.order_id) in (select order_id from gate_scope_orders)")
    else:
        _newest_orders(con, order_date)
    _rates_per_day(con, settings.reporting_currency)
    _latest_channel(con)
    _latest_costs(con)
    in_scope = (
        "true"
        if scoped is None or served is not None
        else f"newest.order_id in (select trim(order_id) from raw.shop_orders where {scoped})"
    )
    _latest_orders(con, in_scope)
    if days is not None:
        _order_days(con, None if served is None else days, served)
    con.execute("drop table if exists temp.gate_newest_orders")


def _latest_rates(con: duckdb.DuckDBPyConnection) -> None:
    """``gate_fx``: the newest usd_rate per (rate day, currency); USD is 1 from the beginning of time."""
    con.execute(
        """
        create or replace temp table gate_fx as
        select rate_date, currency, usd_rate from (
            select
                cast(date as date) as rate_date,
                upper(trim(currency)) as currency,
                cast(usd_rate as double) as usd_rate
            from raw.fx_rates
            qualify row_number() over (
                partition by cast(date as date), upper(trim(currency))
                order by _batch_day desc, _loaded_at desc, _batch_id desc, _source_line desc
            ) = 1
        )
        where currency <> 'USD'
        union all
        select date '0001-01-01', 'USD', 1.0
        """
    )


def _rates_per_day(con: duckdb.DuckDBPyConnection, reporting_currency: str) -> None:
    """``gate_rates``: the rate of every (day, currency) the latest orders and every channel and
    cost row need, and the reporting currency's rate that day."""
    rep = literal(reporting_currency.upper())
    con.execute(
        f"""
        create or replace temp table gate_rates as
        with pairs as (
            select distinct order_date as day, currency from gate_newest_orders
            union
            select distinct cast(date as date), upper(trim(currency)) from raw.channel_performance
            union
            select distinct cast(date as date), upper(trim(currency)) from raw.costs_daily
        )
        select pairs.day, pairs.currency, cur.usd_rate, rc.usd_rate as reporting_usd_rate
        from (select *, {rep} as reporting_currency from pairs) as pairs
        asof left join gate_fx as cur
            on pairs.currency = cur.currency and pairs.day >= cur.rate_date
        asof left join gate_fx as rc
            on pairs.reporting_currency = rc.currency and pairs.day >= rc.rate_date
        """
    )


# Newest file first: the tie-breakers after the version column of each raw table.
NEWEST_FILE = "_batch_day desc, _loaded_at desc, _batch_id desc, _source_file desc, _source_line desc"


def _converted_latest(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: str,
    raw: str,
    partition: str,
    *,
    day: str,
    converted: str,
    where: str = "true",
    order: str = NEWEST_FILE,
) -> None:
    """Temp ``table``: the newest row per ``partition`` of ``raw`` (``columns`` plus its source
    file and line), joined to that day's rates of its currency, with the ``converted`` columns."""
    con.execute(
        f"""
        create or replace temp table {table} as
        with latest as (
            select {columns}, _source_file as source_file, _source_line as source_line
            from {raw}
            where {where}
            qualify row_number() over (partition by {partition} order by {order}) = 1
        )
        select latest.*, r.usd_rate, r.reporting_usd_rate, {converted}
        from latest
        left join gate_rates as r on latest.{day} = r.day and latest.currency = r.currency
        """
    )


def _latest_channel(con: duckdb.DuckDBPyConnection) -> None:
    """``gate_channel``: the newest file per (date, platform, campaign_id), spend in the reporting currency."""
    _converted_latest(
        con,
        "gate_channel",
        """cast(date as date) as report_date, lower(trim(platform)) as platform,
            trim(campaign_id) as campaign_id, upper(trim(currency)) as currency,
            cast(spend as double) as spend_local""",
        "raw.channel_performance",
        "cast(date as date), lower(trim(platform)), trim(campaign_id)",
        day="report_date",
        converted="latest.spend_local * r.usd_rate / r.reporting_usd_rate as spend",
    )


def _latest_costs(con: duckdb.DuckDBPyConnection) -> None:
    """``gate_costs``: the latest acquisition-purpose raw cost rows (SPEC §11), in the reporting currency.

    Newest file per (date, channel, campaign, cost_type, purpose); empty purpose = acquisition,
    empty campaign = (none). Acquisition costs add to the funnel's spend; retention costs never do.
    """
    _converted_latest(
        con,
        "gate_costs",
        """cast(date as date) as report_date, upper(trim(currency)) as currency,
            cast(amount as double) as amount_local""",
        "raw.costs_daily",
        """cast(date as date), lower(trim(channel)), coalesce(nullif(lower(trim(campaign)), ''), '(none)'),
            lower(trim(cost_type))""",
        day="report_date",
        converted="latest.amount_local * r.usd_rate / r.reporting_usd_rate as spend",
        where="coalesce(nullif(lower(trim(purpose)), ''), 'acquisition') = 'acquisition'",
    )


def _newest_orders(con: duckdb.DuckDBPyConnection, order_date: str, where: str = "true") -> None:
    """``gate_newest_orders``: the newest version of every raw order, the columns the checks read
    (its file as a rank into ``gate_order_files``).

    Found with a hash aggregate, which spills, not a window, which does not: at 24M raw order
    versions (10M orders) a ``row_number()`` over them ran out of a 4 GB ``memory_limit``. Each
    version gets one 128-bit code in the newest-first order (updated_at, then its file's rank by
    batch day, load time, batch id and file name, then the line); an order's newest version is the
    one with the order's largest code, taken with its columns in the same pass (``arg_max``; a
    ``max`` and then a semi join of every version with the winning codes read the 24M versions
    twice: at 10M orders 10.2 -> 8.8 s, for 1.2 GB more RSS; DECISIONLOG 73). ``where``: which
    raw versions (SQL on ``raw``): the daily gate's scoped orders (DECISIONLOG 74).
    """
    batch = "_batch_day, _loaded_at, _batch_id, _source_file"
    con.execute(
        f"""
        create or replace temp table gate_order_files as
        select {batch}, row_number() over (order by {batch}) as file_rank
        from (select distinct {batch} from raw.shop_orders)
        """
    )
    con.execute(
        f"""
        create or replace temp table gate_newest_orders as
        with newest as (
            select
                trim(raw.order_id) as order_id,
                arg_max(
                    {{
                        'status': lower(trim(raw.status)),
                        'currency': upper(trim(raw.currency)),
                        'order_date': {order_date},
                        'net_local': cast(raw.gross_amount as double) - cast(raw.discount_amount as double)
                            - cast(raw.refund_amount as double),
                        'file_rank': files.file_rank,
                        'source_line': raw._source_line,
                    }},
                    (coalesce(epoch_us(raw.updated_at), -4611686018427387904)::hugeint << 64)
                    + (files.file_rank::hugeint << 32) + raw._source_line
                ) as version
            from raw.shop_orders as raw
            inner join gate_order_files as files using ({batch})
            where raw.order_id is not null and trim(raw.order_id) <> '' and ({where})
            group by trim(raw.order_id)
        )
        select order_id, version.status, version.currency, version.order_date, version.net_local,
            version.file_rank, version.source_line
        from newest
        """
    )


def _latest_orders(con: duckdb.DuckDBPyConnection, in_scope: str) -> None:
    """``gate_orders``: the newest version of the orders ``in_scope`` (SQL on ``newest``), with
    its file and line, net revenue in the reporting currency."""
    counted = f"newest.status in ({REVENUE_STATUSES_SQL})"
    con.execute(
        f"""
        create or replace temp table gate_orders as
        select newest.order_id, newest.status, newest.currency, newest.order_date, newest.net_local,
            files._source_file as source_file, newest.source_line,
            r.usd_rate, r.reporting_usd_rate, {counted} as is_counted,
            case when {counted} then newest.net_local * r.usd_rate / r.reporting_usd_rate else 0.0 end
                as net_revenue
        from gate_newest_orders as newest
        inner join gate_order_files as files using (file_rank)
        left join gate_rates as r on newest.order_date = r.day and newest.currency = r.currency
        where {in_scope}
        """
    )


def _order_days(con: duckdb.DuckDBPyConnection, days: str | None, served: str | None) -> None:
    """``gate_order_days`` (the daily gate only): per (order day, currency) of the newest version of
    the orders, the orders, the counted ones and their net revenue, summed in the order currency
    and then converted to the reporting currency (null: no rate). ``days``: only the newest
    versions on those days or without a day; ``served``: SQL of the rows of the other days."""
    counted = f"status in ({REVENUE_STATUSES_SQL})"
    where = "true" if days is None else f"order_date in (select day from {days}) or order_date is null"
    con.execute(
        f"""
        create or replace temp table gate_order_days as
        with local_days as (
            select order_date as day, currency, count(*) as orders, count(*) filter (where {counted}) as rows,
                   coalesce(sum(net_local) filter (where {counted}), 0.0) as net_local
            from gate_newest_orders where {where} group by all
        )
        select o.day, o.currency, o.orders, o.rows,
               o.net_local * r.usd_rate / r.reporting_usd_rate as net_revenue
        from local_days as o
        left join gate_rates as r on o.day = r.day and o.currency = r.currency
        {"" if served is None else "union all " + served}
        """
    )
