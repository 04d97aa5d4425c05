"""The ``postgres`` dbt target: the same exports built on DuckDB and on PostgreSQL give identical marts.

One generated landing is loaded through the ingestion bulk path (DuckDB is the parsing and gating
engine for both targets) in three rounds, and after each round the marts are built twice: with
the ``duckdb`` target into the build file (the reference: models, no tests), and with the
``postgres`` target (raw mirrored into a real PostgreSQL 15 on loopback, dbt into ``marts_build``
with its tests, mart gate, schema-swap publication).
Round 1 runs the full ``dbt build``, with unit tests on PostgreSQL; round 2 loads the later days; round 3
re-delivers a corrected orders file (its batch replaces the old one in both warehouses) and
builds ``fct_orders`` incrementally. Every round: every published PostgreSQL mart equals the
DuckDB mart row for row, column types included (decimals exact to 4 places, dates, booleans,
nulls, doubles bit for bit). Non-default reporting currency and timezone exercise fx and days.
"""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pg_server import dbt_postgres_env
from pg_two_targets import (
    CORRECTED_DAY,
    END,
    SCALE,
    SEED,
    SPLIT,
    START,
    add_recall_campaign,
    assert_marts_identical,
    build_duckdb,
    build_postgres,
    correct_orders_file,
    ingest,
    marts_of_both,
    restored_environ,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def rounds(postgres_server, tmp_path_factory):
    """Three load rounds, each built on both targets and published on PostgreSQL."""
    from growthops.build.stage import build_marts
    from growthops.config import load_settings
    from growthops.gate.stage import mart_gate
    from growthops.generate import generate
    from growthops.serve.stage import publish_marts

    data_dir = tmp_path_factory.mktemp("pg_vs_duckdb")
    database = postgres_server.create_database("growthops_marts")
    env = {
        "GROWTHOPS_DATA_DIR": str(data_dir),
        "GROWTHOPS_INGEST_SETTLE_SECONDS": "0",
        "GROWTHOPS_REPORTING_CURRENCY": "EUR",
        "GROWTHOPS_REPORTING_TIMEZONE": "Asia/Tokyo",
        "GROWTHOPS_MARTS_REACTIVATION_DAYS": "20",
    }
    settings_duck = load_settings(env=env)
    settings_pg = load_settings(env={**env, **dbt_postgres_env(postgres_server, database)})
    assert settings_pg.warehouse_target == "postgres" and settings_pg.pg.port == postgres_server.port
    generate(settings_duck.landing_dir, START, END, SCALE, SEED)
    out: dict = {"settings": settings_pg, "duck": settings_duck, "database": database, "seconds": {}}

    def timed(name, fn, *args, **kwargs):
        started = time.monotonic()
        value = fn(*args, **kwargs)
        out["seconds"][name] = out["seconds"].get(name, 0.0) + time.monotonic() - started
        return value

    with restored_environ():
        # round 1: full build; on PostgreSQL through the stage function backfill and replay use
        # (raw sync + dbt build, unit tests included: the first build of this data root). The
        # unit tests on DuckDB run in the dbt suite's shared build (tests/dbt/conftest.py).
        timed("ingest", ingest, settings_duck, START, SPLIT)
        assert add_recall_campaign(settings_duck) > 20
        timed("duckdb", build_duckdb, settings_duck)
        timed("postgres", build_marts, settings_pg)
        gate = timed("postgres", mart_gate, settings_pg)
        published = timed("publish", publish_marts, settings_pg, "round_1")
        out["round_1"] = {
            "gate": gate,
            "published": published,
            "counts": assert_marts_identical(settings_pg),
        }
        # round 2: the later days (late status changes, restated channel days)
        timed("ingest", ingest, settings_duck, SPLIT + timedelta(days=1), END)
        timed("duckdb", build_duckdb, settings_duck)
        synced, gate = timed("postgres", build_postgres, settings_pg, "--exclude-resource-type", "unit_test")
        published = timed("publish", publish_marts, settings_pg, "round_2")
        out["round_2"] = {
            "sync": synced,
            "gate": gate,
            "published": published,
            "counts": assert_marts_identical(settings_pg),
        }
        # round 3: a corrected orders file replaces its batch; fct_orders runs incrementally
        order_id = correct_orders_file(Path(settings_duck.landing_dir), CORRECTED_DAY, END)
        timed("ingest", ingest, settings_duck, CORRECTED_DAY, CORRECTED_DAY, sources=("orders",))
        timed("duckdb", build_duckdb, settings_duck)
        synced, gate = timed("postgres", build_postgres, settings_pg, "--exclude-resource-type", "unit_test")
        out["round_3"] = {"sync": synced, "gate": gate, "order_id": order_id}
    print("seconds per stage:", {k: round(v, 1) for k, v in out["seconds"].items()})
    return out


# --------------------------------------------------------------------------------------- results


def test_round_1_full_build_with_unit_tests_is_identical_on_postgres(rounds):
    counts = rounds["round_1"]["counts"]
    assert counts["fct_orders"] > 100 and counts["mart_channel_funnel_daily"] > 100
    assert all(n > 0 for n in counts.values()), counts
    assert rounds["round_1"]["gate"].passed
    assert rounds["round_1"]["published"].row_counts == counts


def test_round_2_later_days_are_identical_on_postgres(rounds):
    before, after = rounds["round_1"]["counts"], rounds["round_2"]["counts"]
    assert after["fct_orders"] > before["fct_orders"]
    assert after["mart_reactivation_candidates"] > 0  # the 20-day threshold is exercised
    gate = rounds["round_2"]["gate"]
    assert gate.passed
    # the daily gate: the days round 2 did not touch hold to the served marts, read on PostgreSQL
    assert not gate.scope.full and gate.scope.days
    assert gate.to_dict()["scope"]["other_days_from"] == "served publication", gate.scope
    assert rounds["round_2"]["published"].previous_run_id == "round_1"


def test_the_data_exercise_currency_timezone_and_ratios(rounds):
    settings = rounds["settings"]
    con = marts_of_both(settings)
    try:
        currencies = con.execute(
            "select distinct reporting_currency, reporting_timezone from pg.fct_orders"
        ).fetchall()
        assert currencies == [("EUR", "Asia/Tokyo")]
        local = con.execute("select count(distinct currency) from pg.fct_orders").fetchone()[0]
        assert local >= 2  # orders in several currencies were converted
        cpc, ltv, roas = con.execute(
            "select count(cpc), (select count(ltv_per_customer) from pg.mart_cohort_retention), count(roas) "
            "from pg.mart_channel_funnel_daily"
        ).fetchone()
        assert cpc > 0 and ltv > 0 and roas > 0
        # the day boundary moved: some orders fall on the next Tokyo day
        shifted = con.execute(
            "select count(*) from pg.fct_orders where order_date <> cast(created_at as date)"
        ).fetchone()[0]
        assert shifted > 0
    finally:
        con.close()


def test_money_divide_is_exact_half_away_from_zero(rounds):
    """cpc/cac/ltv: exact quotient of 4-decimal money by a count, rounded half away from zero."""
    con = marts_of_both(rounds["settings"])
    try:
        rows = con.execute(
            "select spend, clicks, cpc from pg.mart_channel_funnel_daily where clicks > 0"
        ).fetchall()
    finally:
        con.close()
    assert rows
    from decimal import ROUND_HALF_UP

    for spend, clicks, cpc in rows:
        assert cpc == (spend / clicks).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP), (spend, clicks)


def test_round_3_replaced_batch_is_mirrored_and_incremental_fct_orders_is_identical(rounds):
    sync = rounds["round_3"]["sync"].tables["raw.shop_orders"]
    assert (sync.batches_deleted, sync.batches_copied) == (1, 1)
    assert sync.rows_deleted == sync.rows_copied > 0
    for table in ("raw.channel_performance", "raw.crm_contacts", "raw.fx_rates"):
        assert rounds["round_3"]["sync"].tables[table].rows_copied == 0  # nothing new: nothing copied
    assert rounds["round_3"]["gate"].passed
    counts = assert_marts_identical(rounds["settings"], schema="marts_build")
    assert counts == rounds["round_2"]["counts"]  # a status change, no new rows
    con = marts_of_both(rounds["settings"], schema="marts_build")
    try:
        status, net = con.execute(
            "select status, net_revenue from pg.fct_orders where order_id = ?",
            [rounds["round_3"]["order_id"]],
        ).fetchone()
    finally:
        con.close()
    assert status == "refunded" and net == Decimal("0.0000")


def test_raw_mirror_equals_duckdb_raw(rounds):
    from growthops.build import postgres as pg_warehouse
    from growthops.contracts import CONTRACTS
    from growthops.warehouse import connection

    settings = rounds["settings"]
    with connection(settings.warehouse_path, read_only=True) as duck, pg_warehouse.connection(settings) as pg:
        cur = pg.cursor()
        for contract in CONTRACTS.values():
            money = ", ".join(f"sum({c})" for c in contract.money_columns) or "0"
            sql = f"select count(*), count(distinct _batch_id), max(_loaded_at), {money} from {contract.raw_table}"
            cur.execute(sql)
            assert cur.fetchone() == duck.execute(sql).fetchone(), contract.raw_table
        for table in ("raw.load_ledger", "raw.rejects"):
            cur.execute(f"select count(*) from {table}")
            assert cur.fetchone() == duck.execute(f"select count(*) from {table}").fetchone(), table
    from growthops.build.raw_sync import sync_raw

    again = sync_raw(settings)  # nothing changed since round 3
    assert all(t.rows_copied == 0 for t in again.tables.values() if not t.replaced_whole)
    assert all(t.batches_deleted == 0 for t in again.tables.values())


def test_mart_gate_on_postgres_catches_a_wrong_mart(rounds):
    from growthops.build import postgres as pg_warehouse
    from growthops.failures import StageFailure
    from growthops.gate.stage import mart_gate

    settings = rounds["settings"]
    order_id = rounds["round_3"]["order_id"]
    with contextlib.closing(pg_warehouse.connect(settings)) as pg:
        with pg.cursor() as cur:
            cur.execute(
                "update marts_build.fct_orders set net_revenue = net_revenue + 1 where order_id = %s",
                (order_id,),
            )
        pg.commit()
        try:
            with pytest.raises(StageFailure) as failed:
                mart_gate(settings)
            assert "order" in str(failed.value) and failed.value.report_path is not None
        finally:
            with pg.cursor() as cur:
                cur.execute(
                    "update marts_build.fct_orders set net_revenue = net_revenue - 1 where order_id = %s",
                    (order_id,),
                )
            pg.commit()
    assert mart_gate(settings).passed


# --------------------------------------------------------------------------------------- publication


def _marts_state(server, database: str) -> tuple:
    fct = server.query("select count(*), sum(net_revenue) from marts.fct_orders", database=database)[0]
    log = server.query("select run_id from meta.publish_log order by published_at", database=database)
    return fct, [r for (r,) in log]


def test_publish_swaps_schemas_in_one_transaction(rounds, postgres_server, monkeypatch):
    """A failure after the renames rolls everything back: marts, marts_build and the log as before."""
    from growthops.build import postgres as pg_warehouse
    from growthops.failures import StageFailure
    from growthops.serve.stage import publish_marts

    settings, database = rounds["settings"], rounds["database"]
    before = _marts_state(postgres_server, database)
    build_before = postgres_server.query(
        "select count(*), sum(net_revenue) from marts_build.fct_orders", database=database
    )
    calls = []
    real_tables = pg_warehouse.schema_tables

    def failing_after_the_swap(cur, schema):
        calls.append(schema)
        if schema == pg_warehouse.MARTS_SCHEMA:  # the check after the three renames
            raise pg_warehouse.PgWarehouseError("injected failure after the swap")
        return real_tables(cur, schema)

    monkeypatch.setattr(pg_warehouse, "schema_tables", failing_after_the_swap)
    with pytest.raises(StageFailure, match="injected failure"):
        publish_marts(settings, "never_published")
    assert calls == ["marts_build", "marts"]
    assert _marts_state(postgres_server, database) == before
    assert (
        postgres_server.query(
            "select count(*), sum(net_revenue) from marts_build.fct_orders", database=database
        )
        == build_before
    )
    schemas = {s for (s,) in postgres_server.query("select nspname from pg_namespace", database=database)}
    assert "marts_previous" not in schemas


def test_publish_does_not_wait_for_a_bi_reader_and_the_reader_then_sees_the_new_marts(
    rounds, postgres_server
):
    import psycopg2

    from growthops.serve.stage import publish_marts

    settings, database = rounds["settings"], rounds["database"]
    order_id = rounds["round_3"]["order_id"]
    (old_count, old_sum), runs = _marts_state(postgres_server, database)
    assert runs == ["round_1", "round_2"]
    reader = psycopg2.connect(postgres_server.dsn(database))  # a BI tool: READ COMMITTED, in a transaction
    try:
        cur = reader.cursor()
        cur.execute("select count(*), sum(net_revenue) from marts.fct_orders")
        assert cur.fetchone() == (old_count, old_sum)  # holds a lock on the published table
        cur.execute("select status, net_revenue from marts.fct_orders where order_id = %s", (order_id,))
        old_status, old_net = cur.fetchone()
        assert old_status in ("paid", "shipped", "delivered") and old_net > 0
        done = threading.Event()
        result = {}

        def publish():
            result["published"] = publish_marts(settings, "round_3")
            done.set()

        thread = threading.Thread(target=publish)
        thread.start()
        assert done.wait(60), "publication waited for the reader"
        thread.join()
        # the reader's next statements (same transaction) see the whole new version
        cur.execute("select count(*), sum(net_revenue) from marts.fct_orders")
        assert cur.fetchone() == (old_count, old_sum - old_net)
        cur.execute("select status, net_revenue from marts.fct_orders where order_id = %s", (order_id,))
        assert cur.fetchone() == ("refunded", Decimal("0.0000"))
        cur.execute("select run_id from meta.publish_log order by published_at desc limit 1")
        assert cur.fetchone() == ("round_3",)
    finally:
        reader.close()
    published = result["published"]
    assert published.previous_run_id == "round_2"
    assert "raw" not in published.serving_path and "marts" in published.serving_path
    assert any(b.startswith("orders/2025-01-20/") for b in published.source_batches)
    # marts_build now holds the previous version: the next dbt run updates it incrementally
    assert postgres_server.query("select count(*) from marts_build.fct_orders", database=database) == [
        (old_count,)
    ]
    assert_marts_identical(settings)


def test_settings_carry_the_postgres_connection_to_dbt(postgres_server):
    from growthops.build.dbt import base_args, dbt_env
    from growthops.config import load_settings

    settings = load_settings(env=dbt_postgres_env(postgres_server, "somewhere"))
    env = dbt_env(settings)
    assert env["GROWTHOPS_WAREHOUSE_TARGET"] == "postgres"
    assert env["GROWTHOPS_PG_PORT"] == str(postgres_server.port) and env["GROWTHOPS_PG_DBNAME"] == "somewhere"
    args = base_args(settings)
    assert args[args.index("--target") + 1] == "postgres"
    assert load_settings(env={}).pg.port == 5432  # config/growthops.toml [pg] default
