"""What a gate run judges: every day (the full gate) or the days the raw loads since the served
publication touched (the daily gate), plus cheap global totals (:mod:`.totals`).

:func:`touched_scope` computes, from the raw tables and the load ledger only, the temp table
``gate_touched_days``: the business days whose marts a load after ``since`` (the served version's
publication time) can have changed:

- channel and cost rows loaded since: their ``date``;
- orders with a version loaded since: the order day (``created_at`` in the reporting timezone) of
  every version of those orders (a restated order moves its old day too);
- CRM contacts loaded since: their signup day and the order days of all their orders (attribution);
- fx rates loaded since: every day from the rate's date until the next rate of that currency (for
  the reporting currency: of any currency), the days converted with it;
- every batch the ledger finished since (loaded, superseded or refused): its export day.

:func:`mart_orders_view` then makes the temp view ``gate_mart_orders`` the per-order
reconciliations read: all of ``fct_orders`` (full gate) or the orders of the touched days.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import duckdb

from growthops.config import Settings
from growthops.gate.marts import COLUMNS, MARTS_SCHEMA
from growthops.gate.raw_latest import local_date_sql
from growthops.logs import get_logger
from growthops.sql import literal, quote

log = get_logger(__name__)

TOUCHED_DAYS = "gate_touched_days"
SCOPE_TEMP = (TOUCHED_DAYS,)


@dataclass(frozen=True)
class GateScope:
    """``full``: every day is gated; else only ``days`` (plus the global totals)."""

    full: bool
    reason: str  # why full, or what the touched days were computed from
    since: datetime | None = None  # the served publication the daily gate compares with
    days: tuple[date, ...] = field(default=())  # every day judged against raw (touched or moved)
    # the days no load touched whose build figures differ from the served publication's (.served)
    moved: tuple[date, ...] = field(default=())
    # the other days' totals: from the served publication (None), or why from raw (see .served)
    served_basis_missing: str | None = "not read"

    def describe(self) -> str:
        if self.full:
            return f"full gate: every day ({self.reason})"
        if not self.days:
            return f"daily gate: no day touched since {self.since:%Y-%m-%d %H:%M:%S} UTC (global totals only)"
        first, last = self.days[0], self.days[-1]
        span = f"{first}" if first == last else f"{first} .. {last}"
        moved = ""
        if self.moved:
            listed = ", ".join(str(d) for d in self.moved[:5]) + (", …" if len(self.moved) > 5 else "")
            moved = f"; {len(self.moved)} of them moved from the served publication: {listed}"
        return (
            f"daily gate: {len(self.days)} touched day(s) {span} (loads since "
            f"{self.since:%Y-%m-%d %H:%M:%S} UTC{moved}) + global totals"
        )

    def rows(self) -> dict[str, str]:
        """Per mart table with days, the SQL predicate of the rows the expectations judge (the
        daily gate's touched days and rows without a day); the other tables are judged whole."""
        if self.full:
            return {}
        c = COLUMNS
        return {c.orders: day_filter(c.order_date), c.funnel: day_filter(c.funnel_date)}

    def to_dict(self) -> dict[str, object]:
        return {
            "full": self.full,
            "reason": self.reason,
            "since": self.since.isoformat() if self.since else None,
            "days": [d.isoformat() for d in self.days],
            "moved": [d.isoformat() for d in self.moved],
            "other_days_from": "served publication" if self.served_basis_missing is None else "raw",
        }


FULL = GateScope(full=True, reason="requested")
FULL_GATE_FILE = "last_full_gate.json"  # in the warehouse folder: when a full gate last passed


def requested_scope(settings: Settings, *, full: bool = False) -> GateScope:
    """Full (every day) or daily (loads since the served publication): the daily gate only when
    configured (``[gate] scope = "touched"``), something is published, and a full gate passed
    within ``[gate] full_every_days`` (0: never forced)."""
    if full:
        return FULL
    if settings.gate_scope == "full":
        return GateScope(full=True, reason='[gate] scope = "full"')
    since = _served_publication(settings)
    if since is None:
        return GateScope(full=True, reason="nothing published yet")
    last_full = last_full_gate(settings)
    every = settings.gate_full_every_days
    if every > 0 and (
        last_full is None or datetime.now(UTC).replace(tzinfo=None) - last_full >= timedelta(days=every)
    ):
        when = "never" if last_full is None else f"last on {last_full:%Y-%m-%d %H:%M} UTC"
        return GateScope(full=True, reason=f"a full gate every {every} days ({when})")
    return GateScope(full=False, reason="loads since the served publication", since=since)


def _served_publication(settings: Settings) -> datetime | None:
    """When the version BI reads was published (UTC, naive); None when nothing is, or unreadable."""
    try:
        if settings.warehouse_target == "postgres":
            from growthops.serve.postgres import read_publish_log

            rows = read_publish_log(settings)
            return rows[-1]["published_at"] if rows else None
        from growthops.serve.versions import current_version

        served = current_version(settings)
    except Exception as exc:  # an unreadable publication: gate every day
        log.warning("mart gate: the served publication is unreadable (%s): gating every day", exc)
        return None
    return served.published_at if served is not None else None


def last_full_gate(settings: Settings) -> datetime | None:
    path = settings.warehouse_dir / FULL_GATE_FILE
    try:
        return datetime.fromisoformat(json.loads(path.read_text(encoding="utf-8"))["passed_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record_full_gate(settings: Settings) -> None:
    """Note that a full gate passed now (the daily gate runs full again ``full_every_days`` later)."""
    path = settings.warehouse_dir / FULL_GATE_FILE
    tmp = path.with_name(path.name + ".tmp")
    stamp = json.dumps({"passed_at": datetime.now(UTC).replace(tzinfo=None).isoformat()})
    try:
        tmp.write_text(stamp, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:  # the next daily run gates every day again: the safe side
        log.warning("mart gate: could not record the full gate in %s (%s)", path, exc)


def day_filter(column: str) -> str:
    """SQL predicate: ``column`` is a touched day, or has no day (never skipped by the daily gate)."""
    return f"({quote(column)} in (select day from {TOUCHED_DAYS}) or {quote(column)} is null)"


def touched_scope(con: duckdb.DuckDBPyConnection, settings: Settings, since: datetime) -> GateScope:
    """The daily scope: temp table ``gate_touched_days`` of what was loaded after ``since``."""
    day_created = local_date_sql("created_at", settings.reporting_timezone)  # order and signup days
    when = f"_loaded_at > {literal(since.isoformat(sep=' '))}::timestamp"
    rep = literal(settings.reporting_currency.upper())
    con.execute(
        f"""
        create or replace temp table {TOUCHED_DAYS} as
        with new_contacts as (
            select distinct trim(contact_id) as contact_id, {day_created} as day
            from raw.crm_contacts where {when}
        ),
        new_orders as (
            select distinct trim(order_id) as order_id from raw.shop_orders where {when}
            union
            select distinct trim(order_id) from raw.shop_orders
            where trim(contact_id) in (select contact_id from new_contacts)
        ),
        fx as (
            select upper(trim(currency)) as currency, cast(date as date) as rate_date,
                   bool_or({when}) as is_new
            from raw.fx_rates group by all
        ),
        fx_spans as (  -- [rate day, next rate day of the currency) of every new rate
            select currency, rate_date as first_day,
                   lead(rate_date) over (partition by currency order by rate_date) as next_day, is_new
            from fx
        ),
        data_days as (
            select distinct {day_created} as day, upper(trim(currency)) as currency from raw.shop_orders
            union
            select distinct cast(date as date), upper(trim(currency)) from raw.channel_performance
            union
            select distinct cast(date as date), upper(trim(currency)) from raw.costs_daily
        ),
        days as (
            select cast(date as date) as day from raw.channel_performance where {when}
            union all
            select cast(date as date) from raw.costs_daily where {when}
            union all
            select {day_created} from raw.shop_orders
            where trim(order_id) in (select order_id from new_orders)
            union all
            select day from new_contacts
            union all
            select d.day from data_days as d join fx_spans as s
              on s.is_new and (d.currency = s.currency or s.currency = {rep})
             and d.day >= s.first_day and (s.next_day is null or d.day < s.next_day)
            union all
            select day from raw.load_ledger where finished_at > {literal(since.isoformat(sep=" "))}::timestamp
        )
        select distinct day from days where day is not null order by day
        """
    )
    days = tuple(d for (d,) in con.execute(f"select day from {TOUCHED_DAYS} order by day").fetchall())
    return GateScope(full=False, reason="loads since the served publication", since=since, days=days)


def mart_orders_view(con: duckdb.DuckDBPyConnection, scope: GateScope) -> None:
    """Temp view ``gate_mart_orders``: the fct_orders rows the per-order reconciliations judge.

    Full: all. Daily: the orders of the touched days, without a day, or in the scoped raw orders
    (``gate_orders``: a restated order is compared with its latest raw version wherever either
    puts it).
    """
    c = COLUMNS
    where = "true"
    if not scope.full:
        where = (
            f"{day_filter(c.order_date)} or cast({quote(c.order_key)} as varchar) "
            "in (select order_id from gate_orders)"
        )
    con.execute(
        f"create or replace temp view gate_mart_orders as "
        f"select * from {MARTS_SCHEMA}.{quote(c.orders)} where {where}"
    )
