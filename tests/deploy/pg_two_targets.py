"""The two warehouses of the PostgreSQL tests: one generated landing, built on DuckDB (the
reference) and on PostgreSQL, and the comparison of their marts row for row and type for type.

``test_postgres_warehouse`` loads it in three rounds; this module holds the world (dates, scale,
seed, the marts and their keys), the loads and builds of each target, the comparison, and the two
landing edits of the later rounds (a recall campaign, a corrected orders file).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

START = date(2025, 1, 1)
SPLIT = date(2025, 1, 31)
END = date(2025, 2, 20)
CORRECTED_DAY = date(2025, 1, 20)
SCALE = 0.01
SEED = 11
SOURCES = ("fx", "channel", "crm", "orders")
MARTS = {
    "dim_customers": ("customer_id",),
    "fct_orders": ("order_id",),
    "mart_channel_funnel_daily": ("report_date", "channel", "campaign"),
    "mart_cohort_retention": ("cohort_month", "channel", "months_since_first_order"),
    "mart_funnel_stages": ("signup_month", "channel"),
    "mart_reactivation_candidates": ("customer_id",),
    "mart_customer_activity_monthly": ("activity_month", "channel"),
    "mart_customer_activity_weekly": ("week_start", "channel"),
    "mart_customer_segments": ("segment_date", "segment", "channel"),
    "mart_acquisition_unit_economics": ("acquisition_month", "channel"),
    "mart_recall_campaigns": ("campaign_id", "send_week"),
    "mart_recall_campaign_summary": ("campaign_id",),
}


@contextlib.contextmanager
def restored_environ():
    """dbt_runner exports the profile variables into os.environ: put the caller's back."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def ingest(settings, first: date, last: date, sources=SOURCES) -> None:
    from growthops.ingest.loader import load_range

    for source in sources:
        result = load_range(settings, source, first, last)
        assert result.ok and result.rows_rejected == 0, result.summary()


def build_duckdb(settings) -> None:
    """The reference marts on DuckDB: models, seeds and the snapshot, no tests. The data tests run
    on PostgreSQL on the same data (every round builds and tests there, and the marts are asserted
    identical row for row); on DuckDB the dbt suite runs them, and the unit tests, on its own
    build (tests/dbt/conftest.py). Skipping them here saves 290 test queries per round."""
    from growthops.build.dbt import invoke
    from growthops.build.stage import release_dbt_duckdb

    try:
        invoke(settings, ["build", "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test"])
    finally:
        release_dbt_duckdb()


def build_postgres(settings, *args: str):
    """What the transform DAG does on the postgres target: sync raw, dbt, mart gate (no publish)."""
    from growthops.build.dbt import invoke
    from growthops.build.stage import sync_warehouse
    from growthops.gate.stage import mart_gate

    synced = sync_warehouse(settings)
    invoke(settings, ["build", *args])
    gate = mart_gate(settings)
    return synced, gate


def marts_of_both(settings_pg, schema: str = "marts"):
    """An in-memory DuckDB connection with the DuckDB build file attached as ``duck`` and exact
    copies of the PostgreSQL tables of ``schema`` in schema ``pg``."""
    import duckdb

    from growthops.build import postgres as pg_warehouse
    from growthops.gate import postgres as pg_gate

    con = duckdb.connect()
    con.execute(f"attach '{settings_pg.warehouse_path}' as duck (read_only)")
    con.execute("create schema pg")
    with tempfile.TemporaryDirectory() as tmp, pg_warehouse.connection(settings_pg, autocommit=True) as pg:
        with pg.cursor() as cur:
            tables = pg_warehouse.schema_tables(cur, schema)
        for table in tables:
            pg_gate.copy_table_to_duckdb(pg, con, schema, table, f"pg.{table}", Path(tmp))
    return con


def columns(con, catalog: str, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = ? and table_name = ? order by column_index",
        [catalog, schema, table],
    ).fetchall()


def assert_marts_identical(settings_pg, schema: str = "marts") -> dict[str, int]:
    """Every mart of PostgreSQL ``schema`` equals the DuckDB build's, row for row; row counts."""
    con = marts_of_both(settings_pg, schema)
    try:
        duck_tables = {
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where database_name = 'duck' and schema_name = 'marts'"
            ).fetchall()
        }
        pg_tables = {
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where database_name = 'memory' and schema_name = 'pg'"
            ).fetchall()
        }
        assert duck_tables == pg_tables == set(MARTS)
        counts = {}
        for table, keys in MARTS.items():
            duck_cols = columns(con, "duck", "marts", table)
            assert columns(con, "memory", "pg", table) == duck_cols, table
            names = ", ".join(f'"{c}"' for c, _ in duck_cols)
            order = ", ".join(keys)
            duck_rows = con.execute(f"select {names} from duck.marts.{table} order by {order}").fetchall()
            pg_rows = con.execute(f"select {names} from pg.{table} order by {order}").fetchall()
            assert len(pg_rows) == len(duck_rows), (
                f"{table}: {len(pg_rows)} rows on PG, {len(duck_rows)} on DuckDB"
            )
            for duck_row, pg_row in zip(duck_rows, pg_rows, strict=True):
                # Decimal == Decimal is exact (4 places by the contract types), floats bit for bit
                assert pg_row == duck_row, f"{table}: PostgreSQL {pg_row} != DuckDB {duck_row}"
            # and as multisets, independent of the sort (keys are unique, this is belt and braces)
            only = con.execute(
                f"select count(*) from (select {names} from duck.marts.{table} "
                f"except all select {names} from pg.{table})"
            ).fetchone()[0]
            assert only == 0, table
            counts[table] = len(duck_rows)
        return counts
    finally:
        con.close()


RECALL_SENT = "2025-01-25 09:00:00"


def add_recall_campaign(settings) -> int:
    """One recall campaign in raw.messages_sends of the DuckDB build file, sent on RECALL_SENT.

    The generator's recall campaigns start 100 days into its range, after this test's 51 days, so
    the rows are made here from the loaded orders' contacts: every third contact in the holdout,
    every seventh crossing over to the other arm two days later, a contact unknown to the CRM, a
    cost in EUR on messaged rows. With reactivation_days 20 some are lapsed; the 14-day windows are
    still open at round 1's as-of date (outcomes null) and closed at round 2's (outcomes measured).
    """
    import duckdb

    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute(
            f"""
            insert into raw.messages_sends
            with contacts as (
                select contact_id, row_number() over (order by contact_id) as n
                from (
                    select distinct contact_id from raw.shop_orders where contact_id <> ''
                    union select 'unknown-to-crm'
                )
            ),
            recall_rows as (
                select 'RM-' || contact_id as message_id, contact_id, n,
                    timestamp '{RECALL_SENT}' + to_minutes(cast(n % 600 as bigint)) as sent_at,
                    n % 3 = 0 as is_holdout
                from contacts
                union all
                select 'RX-' || contact_id, contact_id, n + 100000,
                    timestamp '{RECALL_SENT}' + interval 2 day, n % 3 != 0
                from contacts where n % 7 = 0
            )
            select message_id, contact_id, 'RC-TEST', 'Recall test', 'email', 'recall', sent_at,
                is_holdout,
                case when not is_holdout then 0.0125 end,
                case when not is_holdout then 'EUR' end,
                'recall-test', date '2025-01-25', 'messages/2025-01-25/sends.csv', n + 1, null,
                current_timestamp::timestamp
            from recall_rows
            """
        )
        return con.execute("select count(*) from raw.messages_sends").fetchone()[0]
    finally:
        con.close()


def correct_orders_file(landing: Path, day: date, last_day: date) -> str:
    """Re-deliver ``orders/<day>/orders.csv`` with one valid order (whose latest version is in this
    file) fully refunded; return its order_id."""
    later = set()
    for d in range(1, (last_day - day).days + 1):
        later_file = landing / "orders" / (day + timedelta(days=d)).isoformat() / "orders.csv"
        with later_file.open(encoding="utf-8-sig", newline="") as fh:
            later.update(r["order_id"] for r in csv.DictReader(fh))
    path = landing / "orders" / day.isoformat() / "orders.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    target = next(
        r for r in rows if r["status"] in ("paid", "shipped", "delivered") and r["order_id"] not in later
    )
    target["status"] = "refunded"
    target["refund_amount"] = str(Decimal(target["gross_amount"]) - Decimal(target["discount_amount"]))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return target["order_id"]
