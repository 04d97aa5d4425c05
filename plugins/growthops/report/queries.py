"""What the report shows, as SQL against the published serving file (opened read-only).

Every number of the report comes from one of these queries: the aggregation happens in DuckDB,
Python only carries the resulting rows to the charts and tables. A section whose mart is not in
the serving file yields ``None`` (the page then says "not published in this version").
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

MARTS = "marts"
META = "meta"
RECENT_RUNS = 30  # data-quality page: publications shown


@dataclass(frozen=True)
class Table:
    """A query result: column names and rows (plain Python values, money as float)."""

    columns: list[str]
    rows: list[tuple]

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)


@contextlib.contextmanager
def open_serving(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The serving file, read-only (a reader never blocks a publication)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("set enable_progress_bar = false")
        yield con
    finally:
        con.close()


def query(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Table:
    cur = con.execute(sql, params or [])
    return Table(columns=[d[0] for d in cur.description], rows=cur.fetchall())


@dataclass(frozen=True)
class RelationQuery:
    """SQL over one table of the serving file. Called with a connection it runs the SQL, or yields
    None where this published version does not hold ``schema.table`` (the page then says so)."""

    table: str
    sql: str
    schema: str = MARTS

    def __call__(self, con: duckdb.DuckDBPyConnection) -> Table | None:
        if not columns_of(con, self.schema, self.table):
            return None
        return query(con, self.sql)


def column_types(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    """Column name -> DuckDB type of ``schema.table`` in the serving file ({} when absent)."""
    return dict(
        con.execute(
            "select column_name, data_type from duckdb_columns() where database_name = current_database() "
            "and schema_name = ? and table_name = ? order by column_index",
            [schema, table],
        ).fetchall()
    )


def columns_of(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """Column names of ``schema.table`` in the serving file ([] when the table is absent)."""
    return list(column_types(con, schema, table))


def _cast(column: str, data_type: str) -> str:
    """A select item: decimals as double (JSON- and chart-friendly), anything else as it is."""
    return f'"{column}"::double as "{column}"' if data_type.startswith("DECIMAL") else f'"{column}"'


def _present(wanted: list[str], available: list[str]) -> list[str]:
    return [c for c in wanted if c in available]


def _money(expr: str) -> str:
    return f"({expr})::double"


# --------------------------------------------------------------------------------------- §3 marts

# CAC = spend / new customers, ROAS = attributed revenue / spend (null where the denominator is 0).
_CAC_ROAS = (
    f"{_money('sum(spend) / nullif(sum(new_customers), 0)')} as cac, "
    f"{_money('sum(attributed_revenue) / nullif(sum(spend), 0)')} as roas"
)


# One row per channel over the whole period: spend, signups, new customers, revenue.
channel_funnel = RelationQuery(
    "mart_channel_funnel_daily",
    f"""
    select channel,
           {_money("sum(spend)")} as spend,  -- null: unknown spend (SPEC §11), not 0
           sum(signups)::bigint as signups,
           sum(new_customers)::bigint as new_customers,
           {_money("coalesce(sum(attributed_revenue), 0)")} as revenue,
           {_CAC_ROAS}
    from {MARTS}.mart_channel_funnel_daily
    group by channel
    order by revenue desc, channel
    """,
)


# Month x channel of channels with spend that month: CAC and ROAS (null when undefined).
cac_roas_monthly = RelationQuery(
    "mart_channel_funnel_daily",
    f"""
    select date_trunc('month', report_date)::date as month,
           channel,
           {_money("sum(spend)")} as spend,
           sum(new_customers)::bigint as new_customers,
           {_money("sum(attributed_revenue)")} as revenue,
           {_CAC_ROAS}
    from {MARTS}.mart_channel_funnel_daily
    group by all
    having sum(spend) > 0
    order by channel, month
    """,
)


# Every cohort_month x months_since_first_order row of channel ``all``.
cohort_retention = RelationQuery(
    "mart_cohort_retention",
    f"""
    select cohort_month, months_since_first_order, cohort_size, active_customers,
           retention_rate::double as retention_rate,
           {_money("ltv_per_customer")} as ltv_per_customer
    from {MARTS}.mart_cohort_retention
    where channel = 'all'
    order by cohort_month, months_since_first_order
    """,
)


# signup → engaged → customer → repeat per channel over all signup months, plus ``all``.
funnel_stages = RelationQuery(
    "mart_funnel_stages",
    f"""
    select coalesce(channel, 'all') as channel,
           sum(signups)::bigint as signups,
           sum(engaged)::bigint as engaged,
           sum(customers)::bigint as customers,
           sum(repeat_customers)::bigint as repeat_customers,
           sum(engaged) / nullif(sum(signups), 0) as engaged_rate,
           sum(customers) / nullif(sum(signups), 0) as customer_rate,
           sum(repeat_customers) / nullif(sum(customers), 0) as repeat_rate
    from {MARTS}.mart_funnel_stages
    group by rollup (channel)
    order by channel is null desc, signups desc, channel
    """,
)


# --------------------------------------------------------------------------------------- §11 marts

GROWTH_COLUMNS = [
    "is_complete",
    "active_customers",
    "new_customers",
    "retained_customers",
    "resurrected_customers",
    "churned_customers",
    "quick_ratio",
    "retention_rate",
    "net_revenue",
    "new_net_revenue",
    "retained_net_revenue",
    "resurrected_net_revenue",
    "churned_net_revenue",
    "revenue_per_active",
]
ECONOMICS_COLUMNS = [
    "is_complete",
    "spend",
    "new_customers",
    "new_customers_unknown_spend",
    "cac",
    "ltv_0",
    "ltv_1",
    "ltv_3",
    "ltv_6",
    "ltv_12",
    "ltv_to_cac_3",
    "ltv_to_cac_6",
    "ltv_to_cac_12",
    "payback_month",
]


RECALL_COLUMNS = [  # shown when present (SPEC §11 names); a summary without any of them: every column
    "campaign_name",
    "channel",
    "targeted_contacts",
    "holdout_contacts",
    "reactivation_rate_targeted",
    "reactivation_rate_holdout",
    "incremental_reactivations",
    "incremental_reactivations_lower",
    "incremental_reactivations_upper",
    "incremental_revenue",
    "incremental_revenue_lower",
    "incremental_revenue_upper",
    "is_significant",
    "is_sample_sufficient",
    "is_mature",
    "cost",
    "cost_per_incremental_reactivation",
    "attributed_reactivations",
]


def _period_column(available: list[str], candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if c in available), None)


def _all_channel_rows(
    con: duckdb.DuckDBPyConnection, table: str, periods: tuple[str, ...], wanted: list[str]
) -> Table | None:
    types = column_types(con, MARTS, table)
    period = _period_column(list(types), periods)
    if not types or period is None:
        return None
    where = "where channel = 'all'" if "channel" in types else ""
    cols = ", ".join(_cast(c, types[c]) for c in _present(wanted, list(types)))
    return query(
        con,
        f'select "{period}"::date as period, {cols} from {MARTS}.{table} {where} order by 1',
    )


def growth_accounting(con: duckdb.DuckDBPyConnection) -> Table | None:
    """mart_customer_activity_monthly, channel ``all``, by month (None when not published)."""
    return _all_channel_rows(
        con, "mart_customer_activity_monthly", ("month", "activity_month", "month_start"), GROWTH_COLUMNS
    )


def unit_economics(con: duckdb.DuckDBPyConnection) -> Table | None:
    """mart_acquisition_unit_economics, channel ``all``, by acquisition month."""
    return _all_channel_rows(
        con,
        "mart_acquisition_unit_economics",
        ("acquisition_month", "cohort_month", "month"),
        ECONOMICS_COLUMNS,
    )


def recall_summary(con: duckdb.DuckDBPyConnection) -> Table | None:
    """mart_recall_campaign_summary: one row per campaign, the RECALL_COLUMNS it has."""
    types = column_types(con, MARTS, "mart_recall_campaign_summary")
    if not types:
        return None
    order = "order by campaign_name" if "campaign_name" in types else ""
    shown = [c for c in RECALL_COLUMNS if c in types]
    if len(shown) < 3:
        shown = list(types)
    cols = ", ".join(_cast(c, types[c]) for c in shown)
    return query(con, f"select {cols} from {MARTS}.mart_recall_campaign_summary {order}")
