"""The incremental stg_orders__orders equals a full refresh row for row after new days, late
versions and a re-delivered file, and each incremental run rebuilt exactly the orders they touch.

A generated landing (orders only) is loaded in two rounds, lookback 0. The second round brings the
later days (new orders, late status and refund changes) and an orders file re-delivered without an
order's only version and without another order's newest version (``dbt_staging_updates``), and is
staged incrementally. Before each incremental run, its compiled incremental select
is run on the warehouse: the orders that run inserts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import generated_settings, ingest
from dbt_helpers import explain, put_back, run_dbt
from dbt_late_updates import _read
from dbt_staging_updates import StagingUpdates, write_staging_updates

START = date(2025, 1, 1)
SPLIT = date(2025, 3, 5)
END = date(2025, 3, 10)
SCALE = 0.01
SEED = 7
MODEL = "stg_orders__orders"
LOOKBACK_0 = {"fct_orders_lookback_days": 0}
COMPILED = Path("target", "compiled", "growthops", "models", "staging", "orders", f"{MODEL}.sql")


def _dbt(warehouse: Path, args: list[str], work: Path) -> None:
    run = run_dbt(warehouse, [*args, "--select", MODEL], work_dir=work, vars=LOOKBACK_0)
    assert run.success, explain(run)


def _rows(warehouse: Path, sql: str = f"select * from staging.{MODEL} order by order_id") -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _restaged(warehouse: Path, work: Path) -> set[str]:
    """The order_ids the model's incremental select returns on the warehouse now."""
    _dbt(warehouse, ["compile"], work)
    sql = (work / COMPILED).read_text(encoding="utf-8")
    assert "restage_loaded_after" in sql, "not compiled incrementally"
    return {r[0] for r in _rows(warehouse, f"select order_id from ({sql}) as restaged")}


def _second_load_orders(landing: Path, updates: StagingUpdates) -> set[str]:
    """The order_ids of the landing files loaded in the second round (read from the files)."""
    with duckdb.connect() as con:
        _read(con, landing, "orders", "orders.csv")
        return {
            r[0]
            for r in con.execute(
                "select distinct trim(order_id) from orders where landing_day > ? or landing_day = ?",
                [SPLIT, updates.redelivered_day],
            ).fetchall()
        }


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> dict:
    settings = generated_settings(tmp_path_factory, "staging", START, END, SCALE, SEED)
    landing, warehouse = Path(settings.landing_dir), settings.warehouse_path
    work = tmp_path_factory.mktemp("staging_dbt")
    ingest(settings, START, SPLIT, sources=("orders",))
    _dbt(warehouse, ["run"], work)
    first = _rows(warehouse)

    updates = write_staging_updates(landing, SPLIT)
    # the re-delivery first: the watermark is the newest load of a version that won (here the
    # last day's), and versions that all lose to newer ones are re-selected until one wins
    ingest(settings, updates.redelivered_day, updates.redelivered_day, sources=("orders",))
    ingest(settings, SPLIT + timedelta(days=1), END, sources=("orders",))
    restaged = _restaged(warehouse, work)
    _dbt(warehouse, ["run"], work)
    return {
        "warehouse": warehouse,
        "work": work,
        "landing": landing,
        "updates": updates,
        "first": first,
        "restaged": restaged,
        "incremental": _rows(warehouse),
        "restaged_without_new_data": _restaged(warehouse, work),
    }


@pytest.fixture(scope="module")
def full_refresh(staged) -> list[tuple]:
    """The model's rows after a full refresh of the staged warehouse (then put back as it was)."""
    with put_back(staged["warehouse"]):
        _dbt(staged["warehouse"], ["run", "--full-refresh"], staged["work"])
        return _rows(staged["warehouse"])


def test_the_incremental_table_equals_a_full_refresh(staged, full_refresh):
    assert len(full_refresh) == len(staged["incremental"]) > 500
    assert staged["incremental"] == full_refresh


def test_the_incremental_run_restaged_exactly_the_touched_orders(staged):
    updates: StagingUpdates = staged["updates"]
    # the orders of the files of the second load (later days, the re-delivered file) and the
    # orders whose first-build version came from the replaced batch and that still have a version
    # (the withdrawn newest version falls back to the older one)
    replaced = {r[0] for r in staged["first"] if r[10] == updates.redelivered_day}
    in_table = {r[0] for r in staged["incremental"]}
    expected = _second_load_orders(staged["landing"], updates) | (replaced & in_table)
    print("orders restaged / in the table:", len(staged["restaged"]), len(in_table))
    assert len(staged["restaged"]) == len(expected)
    assert staged["restaged"] == expected
    assert updates.reverted_order_id in staged["restaged"]
    assert updates.vanished_order_id in replaced - staged["restaged"]
    assert 0 < len(staged["restaged"]) < len(in_table) / 4
    # the rows the run did not restage are the first build's rows, less the vanished order
    kept = [r for r in staged["incremental"] if r[0] not in staged["restaged"]]
    left_out = {updates.vanished_order_id} | staged["restaged"]
    assert kept == [r for r in staged["first"] if r[0] not in left_out] != []


def test_a_run_without_new_data_restages_nothing(staged):
    assert staged["restaged_without_new_data"] == set()


def test_the_incremental_run_carries_the_updates(staged):
    updates: StagingUpdates = staged["updates"]
    first = {r[0]: r for r in staged["first"]}
    rows = {r[0]: r for r in staged["incremental"]}
    # the order whose only version was withdrawn is gone; the other is back to its older version
    assert updates.vanished_order_id in first and updates.vanished_order_id not in rows
    reverted = rows[updates.reverted_order_id]
    assert reverted[3] < first[updates.reverted_order_id][3]
    older = datetime.fromisoformat(updates.reverted_updated_at).astimezone(UTC).replace(tzinfo=None)
    assert reverted[3] == older
    assert reverted[10] != updates.redelivered_day


def test_an_empty_table_restages_every_order(staged, full_refresh):
    warehouse, work = staged["warehouse"], staged["work"]
    with put_back(warehouse):
        with duckdb.connect(str(warehouse)) as con:
            con.execute(f"delete from staging.{MODEL}")
        assert len(_restaged(warehouse, work)) == len(full_refresh)
        _dbt(warehouse, ["run"], work)
        assert _rows(warehouse) == full_refresh
