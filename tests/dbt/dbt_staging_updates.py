"""Order updates written into a generated landing for the incremental stg_orders__orders tests.

On top of the generator's later days (new orders, late status and refund changes), the orders
file of an earlier day is re-delivered without two orders: one whose only version was in it (the
order disappears from raw) and one whose newest version was in it while an older version remains
in an earlier file (the order goes back to that older version). Versions of other days cannot tie
or arrive outdated: the raw gate keeps an order row only in the export of its updated_at day.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
from dbt_late_updates import _read


@dataclass
class StagingUpdates:
    redelivered_day: date
    vanished_order_id: str  # its only version was in the re-delivered file
    reverted_order_id: str  # its newest version was; an older one remains
    reverted_updated_at: str  # updated_at of that older version (landing text)


def _pick(con: duckdb.DuckDBPyConnection, split: date) -> tuple:
    """Orders of the first load only: a day whose file holds an order's only version and another
    order's newest version (an older one in an earlier file)."""
    return con.execute(
        """
        with versions as (
            select *,
                count(*) over (partition by order_id) as n,
                row_number() over (
                    partition by order_id order by cast(updated_at as timestamptz) desc, landing_day desc
                ) as newest,
                max(landing_day) over (partition by order_id) as last_day
            from orders
        ),
        first_load as (select * from versions where last_day <= $split and newest = 1),
        reverted as (
            select r.order_id, r.landing_day,
                (select v.updated_at from versions as v where v.order_id = r.order_id and v.newest = 2)
                    as older_updated_at
            from first_load as r
            where r.n >= 2 and r.landing_day < $split - 7
                and cast(r.updated_at as timestamptz) > (
                    select cast(v.updated_at as timestamptz) from versions as v
                    where v.order_id = r.order_id and v.newest = 2
                )
        ),
        vanished as (select * from first_load where n = 1)
        select r.landing_day, min(v.order_id), min(r.order_id), arg_min(r.older_updated_at, r.order_id)
        from reverted as r
        join vanished as v on r.landing_day = v.landing_day
        group by r.landing_day
        order by r.landing_day
        limit 1
        """,
        {"split": split},
    ).fetchone()


def _rewrite_without(path: Path, order_ids: set[str]) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [row for row in csv.reader(fh) if row[0] not in order_ids]
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)  # as the generator writes them


def write_staging_updates(landing: Path, split: date) -> StagingUpdates:
    """Re-write an orders file of the first load (days up to ``split``) without two orders."""
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        _read(con, landing, "orders", "orders.csv")
        day, vanished, reverted, reverted_updated_at = _pick(con, split)
    finally:
        con.close()
    _rewrite_without(landing / "orders" / day.isoformat() / "orders.csv", {vanished, reverted})
    return StagingUpdates(day, vanished, reverted, reverted_updated_at)
