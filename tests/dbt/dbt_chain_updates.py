"""The order chain's world and the updates written into its landing after the first load.

A generated landing (``START`` to ``END``) is loaded up to ``SPLIT``; the second load brings the later
days and these re-deliveries (on top of ``dbt_late_updates``): an existing customer's contact
re-exported with another first touch, an orders file without one first order, another without one
order's newest version, two first orders restated (to a time after the customer's second order, and
to another customer), a CRM file without a contact, another without a contact's newer first touch,
and an fx file without a day's EUR rate. Each function edits the landing's CSV files and returns the
keys the tests then follow through the chain (:class:`ChainUpdates`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
from dbt_late_updates import LATEST_ORDERS, LateUpdates

from growthops.contracts import CRM, ORDERS, VALID_ORDER_STATUSES

START = date(2025, 1, 1)
SPLIT = date(2025, 3, 8)
END = date(2025, 3, 10)
SCALE = 0.01
SEED = 5


@dataclass
class ChainUpdates:
    late: LateUpdates
    moved_contact_id: str  # re-exported with utm google / cpc
    vanished_order_id: str  # its orders file re-delivered without it
    vanished_day: date
    promoted_by_vanishing_id: str  # the customer's second valid order
    restated: dict[str, tuple[str, str]]  # how -> (restated first order, the second that is first now)
    new_owner_id: str  # the customer the "to another customer" order moved to
    # an order whose newest version's file was re-delivered without it, and its older status
    rebatched: tuple[str, str]
    gone_contact_id: str  # its only version's CRM file re-delivered without it
    # its newer version (utm google / cpc, in the first load) withdrawn by a re-delivered CRM file
    withdrawn_touch_contact_id: str
    withdrawn_rate_day: date  # its fx file re-delivered without the EUR rate


def landing_query(landing: Path, sql: str, params: list | None = None) -> list[tuple]:
    """``sql`` over the landing's order versions (``orders``) and contact versions (``crm``)."""
    con = duckdb.connect()
    try:
        for source, name in (("orders", "orders.csv"), ("crm", "contacts.csv")):
            con.execute(
                f"""
                create temp view {source} as
                select *, cast(regexp_extract(filename, '(\\d{{4}}-\\d{{2}}-\\d{{2}})', 1) as date) as landing_day
                from read_csv('{landing}/{source}/*/{name}', header = true, all_varchar = true, filename = true,
                    union_by_name = true)
                """
            )
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def drop_rows(landing: Path, source: str, day: date, key: str, column: int = 0) -> None:
    """Re-write the ``source`` file (orders, crm or fx) of ``day`` without the rows whose ``column``
    is ``key`` (order_id, contact_id; the currency of a rate): a re-delivery."""
    name = {"orders": "orders.csv", "crm": "contacts.csv", "fx": "rates.csv"}[source]
    path = landing / source / day.isoformat() / name
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [row for row in csv.reader(fh) if row[column] != key]
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def withdraw_a_first_order(landing: Path, late: LateUpdates, spared: str) -> tuple[str, str, date, str]:
    """Re-write the orders file of an early day without a customer's first valid order (one
    delivered in that file only; a file without orders of the ``spared`` customer); return the
    order, its customer, its day and the second order."""
    valid = ", ".join(f"'{s}'" for s in VALID_ORDER_STATUSES)
    order_id, contact_id, day, promoted = landing_query(
        landing,
        f"""
        with latest as (
            select *, count(*) over (partition by order_id) as versions, row_number() over (
                partition by order_id order by cast(updated_at as timestamptz) desc, landing_day desc
            ) as newest
            from orders
        ),
        ranked as (
            select *, row_number() over (
                partition by contact_id order by cast(created_at as timestamptz), order_id
            ) as n
            from latest
            where newest = 1 and status in ({valid}) and contact_id is not null
              and contact_id not in (select contact_id from orders where order_id = ? union select ? union select ?)
        )
        select first.order_id, first.contact_id, first.landing_day, second.order_id
        from ranked as first
        join ranked as second on first.contact_id = second.contact_id and second.n = 2
        where first.n = 1 and first.versions = 1 and first.landing_day < ?
          and first.landing_day not in (select landing_day from orders where contact_id = ?)
        order by first.order_id
        limit 1
        """,
        [late.refunded_first_order_id, late.new_contact_id, spared, SPLIT - timedelta(days=14), spared],
    )[0]
    drop_rows(landing, "orders", day, order_id)
    return order_id, contact_id, day, promoted


def withdraw_a_newer_version(landing: Path, taken: set[str], spared: str) -> tuple[str, date, str]:
    """Re-write the orders file of an early day without one order's newest version (an order with
    an older version, of another status, in an earlier file; a file without orders of the
    ``spared`` customer): that older version is the latest again, with its older load time. Return
    the order, the day rewritten and the older status."""
    order_id, day, older_status = landing_query(
        landing,
        """
        with versions as (
            select *, row_number() over (
                partition by order_id order by cast(updated_at as timestamptz) desc, landing_day desc
            ) as newest
            from orders
        )
        select newest.order_id, newest.landing_day, older.status
        from versions as newest
        join versions as older
            on newest.order_id = older.order_id and older.newest = 2
        where newest.newest = 1 and older.landing_day < newest.landing_day
          and older.status <> newest.status and newest.landing_day < ?
          and coalesce(newest.contact_id, '') not in (select unnest(?::varchar[]))
          and newest.landing_day not in (select landing_day from orders where contact_id = ?)
        order by newest.order_id
        limit 1
        """,
        [SPLIT - timedelta(days=14), sorted(taken), spared],
    )[0]
    drop_rows(landing, "orders", day, order_id)
    return order_id, day, older_status


def quiet_customers(before: date, reloaded: set[date] = frozenset()) -> str:
    """Select of the customers with a valid order whose every order version landed before
    ``before`` and on none of the ``reloaded`` days (their orders reload or re-rate on nothing)."""
    valid = ", ".join(f"'{s}'" for s in VALID_ORDER_STATUSES)
    days = ", ".join(f"date '{day.isoformat()}'" for day in sorted({date.min, *reloaded}))
    return f"""
        select contact_id from orders where contact_id is not null
        group by contact_id
        having max(landing_day) < date '{before.isoformat()}' and bool_or(status in ({valid}))
            and not bool_or(landing_day in ({days}))
    """


def add_google_touch(
    landing: Path, condition: str, params: list, *, day: date | None, stamp: str, campaign: str, order: str
) -> tuple[str, date]:
    """Append a new version of a customer's contact with utm google / cpc to the CRM file of
    ``day`` (None: a week after the contact's newest file), updated at ``stamp`` on that day: the
    first contact by ``order`` whose newest version has another first touch and meets
    ``condition``. Return the contact and the file's day."""
    row = landing_query(
        landing,
        f"""
        select * exclude (filename, rn) from (
            select *, row_number() over (
                partition by contact_id order by cast(updated_at as timestamptz) desc, landing_day desc
            ) as rn
            from crm
        )
        where rn = 1 and coalesce(utm_source, '') not in ('google', '') and {condition}
        order by {order}
        limit 1
        """,
        params,
    )[0]
    version = dict(zip([*CRM.names, "landing_day"], row, strict=True))
    day = day or version.pop("landing_day") + timedelta(days=7)
    version.update(
        updated_at=f"{day.isoformat()}T{stamp}+00:00",
        utm_source="google",
        utm_medium="cpc",
        utm_campaign=campaign,
    )
    path = landing / "crm" / day.isoformat() / "contacts.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        ending = "\r\n" if fh.readline().endswith("\r\n") else "\n"
    with path.open("a", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator=ending).writerow([version[name] for name in CRM.names])
    return version["contact_id"], day


def add_a_later_first_touch(landing: Path) -> tuple[str, date]:
    """Before the first load: append to an early CRM file a newer version of a customer's contact
    with another first touch (utm google / cpc), so that the first load attributes its orders to
    google_ads. Return the contact and the file's day."""
    return add_google_touch(
        landing,
        f"landing_day < ? and contact_id in ({quiet_customers(SPLIT - timedelta(days=21))})",
        [SPLIT - timedelta(days=28)],
        day=None,
        stamp="09:00:00",
        campaign="withdrawn touch",
        order="contact_id desc",  # the late updates take the lowest ids
    )


def withdraw_a_rate(landing: Path, reloaded: set[date]) -> date:
    """Re-write the fx file of an early day without the EUR rate (the reporting currency's: every
    other currency's rate of the day is loaded again, but USD has none, so only the withdrawn rate's
    own day dates the USD orders' conversion): the day takes the day before's EUR rate, loaded
    earlier. The day with the most USD orders, a few days away from the ``reloaded`` ones."""
    near = sorted({day + timedelta(days=d) for day in reloaded for d in range(-2, 3)})
    ((day,),) = landing_query(
        landing,
        """
        select cast(created_at as timestamptz)::date as day
        from orders
        where currency = 'USD' and cast(created_at as timestamptz)::date between ? and ?
          and cast(created_at as timestamptz)::date not in (select unnest(?::date[]))
        group by 1
        order by count(*) desc, 1
        limit 1
        """,
        [START + timedelta(days=7), SPLIT - timedelta(days=14), near],
    )
    drop_rows(landing, "fx", day, "EUR", column=1)
    return day


def withdraw_a_contact(landing: Path, taken: set[str], reloaded: set[date]) -> tuple[str, date]:
    """Re-write an early CRM file without a customer's contact whose only version it held (a
    customer with a first touch, none of whose orders reload): the contact is gone, its orders
    are unattributed now. Return the contact and the day rewritten."""
    contact_id, day = landing_query(
        landing,
        f"""
        select contact_id, max(landing_day)
        from crm
        where coalesce(utm_source, '') <> ''
          and contact_id in ({quiet_customers(SPLIT - timedelta(days=7), reloaded)})
          and contact_id not in (select unnest(?::varchar[]))
        group by contact_id
        having count(*) = 1 and max(landing_day) < ?
        order by contact_id
        limit 1
        """,
        [sorted(taken), SPLIT - timedelta(days=14)],
    )[0]
    drop_rows(landing, "crm", day, contact_id)
    return contact_id, day


def move_a_first_touch(landing: Path, late: LateUpdates, taken: str) -> str:
    """Append to the late CRM file a new version of a customer's contact with utm google / cpc."""
    valid = ", ".join(f"'{s}'" for s in VALID_ORDER_STATUSES)
    contact_id, _ = add_google_touch(
        landing,
        f"contact_id not in (?, ?, ?) and contact_id in (select contact_id from orders where status in ({valid}))",
        [late.new_contact_id, late.restaged_contact_id, taken],
        day=late.day,
        stamp="13:00:00",
        campaign=late.new_contact_campaign,
        order="contact_id",
    )
    return contact_id


def restate_first_orders(landing: Path, late: LateUpdates, taken: set[str]) -> tuple[dict, str]:
    """Append to the late orders file new versions of two customers' first valid orders (customers
    with two valid orders and nothing in the second load): one created an hour after the
    customer's second order, one moved to another customer. Returns how -> (order, its customer's
    second order) and the customer the second one moved to."""
    valid = ", ".join(f"'{s}'" for s in VALID_ORDER_STATUSES)
    excluded = ", ".join("?" for _ in taken)
    rows = landing_query(
        landing,
        f"""
        with latest as ({LATEST_ORDERS}),
        ranked as (
            select *, row_number() over (
                partition by contact_id order by cast(created_at as timestamptz), order_id
            ) as n
            from latest
            where status in ({valid}) and contact_id is not null
        ),
        quiet as (  -- every version of the customer's orders in the first load
            select contact_id from orders where contact_id is not null
            group by contact_id having max(landing_day) < ?
        )
        select first.*, second.order_id as second_order_id, second.created_at as second_created_at
        from ranked as first
        join ranked as second on first.contact_id = second.contact_id and second.n = 2
        where first.n = 1 and first.contact_id in (select contact_id from quiet)
          and first.contact_id not in ({excluded})
        order by first.order_id
        limit 3
        """,
        [SPLIT - timedelta(days=7), *sorted(taken)],
    )
    assert len(rows) == 3, "the generated range has too few quiet repeat customers"
    names = [*ORDERS.names, "filename", "landing_day", "n", "second_order_id", "second_created_at"]
    later, moved, owner = (dict(zip(names, row, strict=True)) for row in rows)
    stamp = f"{late.day.isoformat()}T15:00:00+00:00"
    second_at = datetime.fromisoformat(later["second_created_at"]) + timedelta(hours=1)
    later.update(created_at=second_at.isoformat(), updated_at=stamp)
    moved.update(contact_id=owner["contact_id"], updated_at=stamp)
    with (landing / "orders" / late.day.isoformat() / "orders.csv").open(
        "a", newline="", encoding="utf-8"
    ) as fh:
        writer = csv.writer(fh)
        for version in (later, moved):
            writer.writerow([version[name] for name in ORDERS.names])
    restated = {
        "to a later time": (later["order_id"], later["second_order_id"]),
        "to another customer": (moved["order_id"], moved["second_order_id"]),
    }
    return restated, owner["contact_id"]
