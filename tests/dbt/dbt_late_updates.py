"""Hand-made late updates written into a generated landing, after the generated range.

They force the cases an incremental fct_orders must catch, on top of the generator's own late
status and refund changes:
- the first valid order of a repeat customer is refunded later -> its second order becomes the
  first order (a row whose own inputs did not change);
- a contact_id known only from orders is exported by the CRM later -> its orders move from
  `unattributed` to the contact's channel and campaign;
- the fx file of an earlier day is re-delivered with a corrected rate (the batch is replaced) ->
  orders and spend of that day are converted again;
- a contact changes lifecycle stage (one more version in the lifecycle snapshot).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from growthops.contracts import CRM, ORDERS, VALID_ORDER_STATUSES

# the newest version of every order of a landing's ``orders`` (every file, with its landing_day)
LATEST_ORDERS = """
    select * exclude (rn) from (
        select *, row_number() over (
            partition by order_id order by cast(updated_at as timestamptz) desc, landing_day desc
        ) as rn
        from orders
    ) where rn = 1
"""


@dataclass
class LateUpdates:
    day: date
    refunded_first_order_id: str
    promoted_order_id: str
    new_contact_id: str
    new_contact_campaign: str
    restaged_contact_id: str
    fx_day: date
    replaced_days: list[date] = field(default_factory=list)


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _read(con: duckdb.DuckDBPyConnection, landing: Path, source: str, name: str) -> None:
    con.execute(
        f"""
        create or replace temp table {source} as
        select *, cast(regexp_extract(filename, '(\\d{{4}}-\\d{{2}}-\\d{{2}})', 1) as date) as landing_day
        from read_csv('{landing}/{source}/*/{name}', header = true, all_varchar = true, filename = true)
        """
    )


def write_late_updates(landing: Path, end: date) -> LateUpdates:
    """Write the late updates into ``landing`` (picked from its files); return what was written."""
    day = end + timedelta(days=1)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    _read(con, landing, "orders", "orders.csv")
    _read(con, landing, "crm", "contacts.csv")
    valid = ", ".join(f"'{s}'" for s in VALID_ORDER_STATUSES)
    con.execute(f"create temp table latest_orders as {LATEST_ORDERS}")
    # a repeat customer known to the CRM whose first two valid orders are early
    refunded, promoted = con.execute(
        f"""
        with valid_orders as (
            select o.*, row_number() over (
                partition by o.contact_id order by cast(o.created_at as timestamptz), o.order_id
            ) as n
            from latest_orders as o
            where o.status in ({valid}) and o.contact_id is not null
              and o.contact_id in (select contact_id from crm)
        )
        select first.order_id, second.order_id
        from valid_orders as first
        join valid_orders as second on first.contact_id = second.contact_id and second.n = 2
        where first.n = 1 and cast(first.created_at as timestamptz) < timestamptz '2025-02-15'
        order by first.order_id
        limit 1
        """
    ).fetchone()
    first_row = con.execute("select * from latest_orders where order_id = ?", [refunded]).fetchone()
    cols = [d[0] for d in con.description]
    first = dict(zip(cols, first_row, strict=True))

    # a contact_id seen only on orders
    new_contact, first_order_at = con.execute(
        """
        select contact_id, min(cast(created_at as timestamptz))
        from latest_orders
        where contact_id is not null and contact_id not in (select contact_id from crm)
        group by contact_id
        order by contact_id
        limit 1
        """
    ).fetchone()
    campaign = con.execute(
        "select lower(trim(utm_campaign)) from crm where utm_source = 'google' and utm_medium = 'cpc' "
        "and utm_campaign is not null order by contact_id limit 1"
    ).fetchone()[0]
    crm_row = con.execute(
        """
        select * exclude (filename, landing_day, rn) from (
            select *, row_number() over (
                partition by contact_id order by cast(updated_at as timestamptz) desc, landing_day desc
            ) as rn from crm
        ) where rn = 1 and lifecycle_stage = 'lead' order by contact_id limit 1
        """
    ).fetchone()
    crm_cols = [d[0] for d in con.description]
    restaged = dict(zip(crm_cols, crm_row, strict=True))
    con.close()

    stamp = datetime.combine(day, datetime.min.time()) + timedelta(hours=12)
    order_file = landing / "orders" / day.isoformat() / "orders.csv"
    order_file.parent.mkdir(parents=True, exist_ok=True)
    with order_file.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(ORDERS.names)
        gross = float(first["gross_amount"])
        discount = float(first["discount_amount"])
        writer.writerow(
            [
                first["order_id"],
                first["contact_id"],
                first["created_at"],
                _iso(stamp),
                "refunded",
                first["currency"],
                f"{gross:.2f}",
                f"{discount:.2f}",
                f"{gross - discount:.2f}",
            ]
        )

    crm_file = landing / "crm" / day.isoformat() / "contacts.csv"
    crm_file.parent.mkdir(parents=True, exist_ok=True)
    signup = first_order_at.astimezone(UTC).replace(tzinfo=None) - timedelta(hours=1)
    with crm_file.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CRM.names)
        writer.writerow(
            [new_contact, f"late.{new_contact}@example.org", _iso(signup), _iso(stamp), "customer",
             "google", "cpc", campaign, "DE", "false"]
        )  # fmt: skip
        writer.writerow(
            [restaged["contact_id"], restaged["email"], restaged["created_at"], _iso(stamp), "mql",
             restaged["utm_source"], restaged["utm_medium"], restaged["utm_campaign"], restaged["country"],
             restaged["is_deleted"] or "false"]
        )  # fmt: skip

    # re-deliver the fx file of an early day with a corrected EUR rate (replaces that batch)
    fx_day = date(2025, 2, 10)
    fx_file = landing / "fx" / fx_day.isoformat() / "rates.csv"
    with fx_file.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    for row in rows[1:]:
        if row[1] == "EUR":
            row[2] = f"{float(row[2]) * 1.02:.8f}"
    with fx_file.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)

    return LateUpdates(
        day=day,
        refunded_first_order_id=refunded,
        promoted_order_id=promoted,
        new_contact_id=new_contact,
        new_contact_campaign=campaign,
        restaged_contact_id=restaged["contact_id"],
        fx_day=fx_day,
        replaced_days=[fx_day],
    )
