"""What the gate reads: the marts schema, the mart tables and columns of the reconciliations, and
the SQL helpers every check shares (quoting, sample rows as plain values)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from growthops.gate.result import jsonable

MARTS_SCHEMA = "marts"
SAMPLE_ROWS = 5


@dataclass(frozen=True)
class MartColumns:
    """Every mart table and column the SQL reconciliations read: the one place to rename them.

    (The GX suite names its columns in ``expectations/marts.json``; a test checks both against the
    dbt models' contracts.)
    """

    orders: str = "fct_orders"
    order_key: str = "order_id"
    order_status: str = "status"
    order_net_revenue: str = "net_revenue"
    order_date: str = "order_date"
    funnel: str = "mart_channel_funnel_daily"
    funnel_date: str = "report_date"
    funnel_spend: str = "spend"
    funnel_revenue: str = "attributed_revenue"

    def required(self) -> dict[str, tuple[str, ...]]:
        return {
            self.orders: (self.order_key, self.order_date, self.order_status, self.order_net_revenue),
            self.funnel: (self.funnel_date, self.funnel_spend, self.funnel_revenue),
        }


COLUMNS = MartColumns()


def fetch_samples(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Sample rows as plain dicts; doubles rounded to 6 places (money is compared to 4)."""
    cols = [d[0] for d in cur.description]
    return [
        {c: round(v, 6) if isinstance(v, float) else jsonable(v) for c, v in zip(cols, row, strict=True)}
        for row in cur.fetchall()
    ]
