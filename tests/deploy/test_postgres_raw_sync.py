"""growthops.build.raw_sync.sync_raw on hand-made raw batches: exact values, batch replacement, one
transaction. (The full pipeline on generated data is in test_postgres_warehouse.py.)"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from pg_server import dbt_postgres_env

pytestmark = pytest.mark.postgres

ORDER_COLUMNS = (
    "order_id, contact_id, created_at, updated_at, status, currency, gross_amount, discount_amount, "
    "refund_amount, _batch_id, _batch_day, _source_file, _source_line, _extra, _loaded_at"
)


def _order(batch: str, n: int, loaded_at: datetime, **overrides) -> tuple:
    row = {
        "order_id": f"{batch}-{n}",
        "contact_id": f"c{n}",
        "created_at": datetime(2025, 1, 2, 3, 4, 5, 678901),
        "updated_at": datetime(2025, 1, 2, 3, 4, 5, 678901),
        "status": "paid",
        "currency": "EUR",
        "gross_amount": Decimal("1234.5678"),
        "discount_amount": Decimal("0.0001"),
        "refund_amount": Decimal("0.0000"),
        "_batch_id": batch,
        "_batch_day": date(2025, 1, 2),
        "_source_file": f"orders/2025-01-02/{batch}.csv",
        "_source_line": n + 1,
        "_extra": None,
        "_loaded_at": loaded_at,
    }
    row.update(overrides)
    return tuple(row.values())


@pytest.fixture
def warehouses(postgres_server, pg_database, tmp_path):
    from growthops.config import load_settings
    from growthops.ingest.ledger import ensure_tables
    from growthops.warehouse import connection

    settings = load_settings(
        env={"GROWTHOPS_DATA_DIR": str(tmp_path), **dbt_postgres_env(postgres_server, pg_database)}
    )
    with connection(settings.warehouse_path) as con:
        ensure_tables(con)
    return settings


def _insert(settings, rows: list[tuple]) -> None:
    from growthops.warehouse import connection

    with connection(settings.warehouse_path) as con:
        con.executemany(
            f"insert into raw.shop_orders ({ORDER_COLUMNS}) values ({', '.join(['?'] * 15)})", rows
        )


def _duck(settings, sql: str, params=()) -> list[tuple]:
    from growthops.warehouse import connection

    with connection(settings.warehouse_path, read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _pg(server, database, sql: str) -> list[tuple]:
    return server.query(sql, database=database)


def test_values_arrive_exactly(warehouses, postgres_server, pg_database):
    from growthops.build.raw_sync import sync_raw

    loaded = datetime(2025, 1, 3, 6, 0, 0, 123456)
    _insert(
        warehouses,
        [
            _order("a", 1, loaded),
            # NULL vs empty string, quotes, a comma and a newline in text, JSON extras, big money
            _order("a", 2, loaded, contact_id=None, status="", _extra=json.dumps({"note": 'x, "y"\nz'})),
            _order("a", 3, loaded, contact_id="", gross_amount=Decimal("99999999999999.9999")),
        ],
    )
    result = sync_raw(warehouses)
    orders = result.tables["raw.shop_orders"]
    assert (orders.batches_copied, orders.rows_copied, orders.batches_deleted) == (1, 3, 0)
    sql = (
        "select order_id, contact_id, created_at, status, gross_amount, discount_amount, _extra::text, "
        "_loaded_at from raw.shop_orders order by order_id"
    )
    pg_rows = _pg(postgres_server, pg_database, sql)
    duck_rows = _duck(warehouses, sql.replace("_extra::text", "cast(_extra as varchar)"))
    assert [r[:6] + r[7:] for r in pg_rows] == [r[:6] + r[7:] for r in duck_rows]
    assert pg_rows[1][1] is None and pg_rows[1][3] == "" and pg_rows[2][1] == ""
    assert json.loads(pg_rows[1][6]) == json.loads(duck_rows[1][6]) == {"note": 'x, "y"\nz'}
    assert pg_rows[2][4] == Decimal("99999999999999.9999")
    # the column types are the contract's, not text
    types = dict(
        _pg(
            postgres_server,
            pg_database,
            "select column_name, data_type || coalesce('(' || numeric_precision || ',' || numeric_scale || ')', '') "
            "from information_schema.columns where table_schema = 'raw' and table_name = 'shop_orders'",
        )
    )
    assert types["gross_amount"] == "numeric(18,4)" and types["created_at"] == "timestamp without time zone"
    assert types["_extra"] == "jsonb" and types["_source_line"].startswith("bigint")


def test_replaced_and_reloaded_batches_are_mirrored(warehouses, postgres_server, pg_database):
    from growthops.build.raw_sync import sync_raw
    from growthops.warehouse import connection

    first = datetime(2025, 1, 3, 6, 0)
    _insert(warehouses, [_order("a", n, first) for n in range(3)] + [_order("b", n, first) for n in range(2)])
    sync_raw(warehouses)
    # b is superseded by c; a is loaded again (same id, a later load: e.g. re-delivered after a fix)
    later = datetime(2025, 1, 4, 6, 0)
    with connection(warehouses.warehouse_path) as con:
        con.execute("delete from raw.shop_orders where _batch_id in ('a', 'b')")
    _insert(warehouses, [_order("a", n, later) for n in range(3)] + [_order("c", n, later) for n in range(4)])
    result = sync_raw(warehouses).tables["raw.shop_orders"]
    assert (result.batches_deleted, result.rows_deleted) == (2, 5)  # a (changed) and b
    assert (result.batches_copied, result.rows_copied) == (2, 7)  # a again and c
    sql = "select _batch_id, count(*), max(_loaded_at) from raw.shop_orders group by 1 order by 1"
    assert (
        _pg(postgres_server, pg_database, sql) == _duck(warehouses, sql) == [("a", 3, later), ("c", 4, later)]
    )
    synced = _pg(
        postgres_server,
        pg_database,
        "select batch_id, row_count from raw._synced_batches where table_name = 'raw.shop_orders' order by 1",
    )
    assert synced == [("a", 3), ("c", 4)]
    again = sync_raw(warehouses).tables["raw.shop_orders"]
    assert (again.batches_copied, again.batches_deleted) == (0, 0)


def test_a_failed_sync_changes_nothing(warehouses, postgres_server, pg_database, monkeypatch):
    from growthops.build import raw_sync as pg_warehouse

    loaded = datetime(2025, 1, 3, 6, 0)
    _insert(warehouses, [_order("a", 1, loaded)])
    pg_warehouse.sync_raw(warehouses)
    _insert(warehouses, [_order("b", 1, loaded)])
    with pytest.raises(pg_warehouse.PgWarehouseError, match="copied 0 rows"):
        # the COPY of the new batch "loses" its rows: the count check refuses to commit
        monkeypatch.setattr(pg_warehouse, "_copy_to_pg", lambda *args, **kwargs: 0)
        pg_warehouse.sync_raw(warehouses)
    monkeypatch.undo()
    assert _pg(postgres_server, pg_database, "select _batch_id from raw.shop_orders") == [("a",)]
    synced = "select batch_id from raw._synced_batches where table_name = 'raw.shop_orders'"
    assert _pg(postgres_server, pg_database, synced) == [("a",)]
    assert pg_warehouse.sync_raw(warehouses).tables["raw.shop_orders"].batches_copied == 1


def test_no_build_warehouse_is_a_clear_error(postgres_server, pg_database, tmp_path):
    from growthops.build.stage import sync_warehouse
    from growthops.config import load_settings
    from growthops.failures import StageFailure

    settings = load_settings(
        env={"GROWTHOPS_DATA_DIR": str(tmp_path), **dbt_postgres_env(postgres_server, pg_database)}
    )
    with pytest.raises(StageFailure, match="no build warehouse") as failed:
        sync_warehouse(settings)
    assert failed.value.report_path is not None and failed.value.report_path.exists()
    # the duckdb target has nothing to sync
    assert sync_warehouse(load_settings(env={"GROWTHOPS_DATA_DIR": str(tmp_path)})) is None


def test_gate_and_publish_without_built_marts_fail_cleanly(warehouses):
    """dbt built nothing into marts_build: the gate and the publication refuse, with a report."""
    from growthops.failures import StageFailure
    from growthops.gate.stage import mart_gate
    from growthops.serve.stage import publish_marts

    with pytest.raises(StageFailure, match=r"marts_build .* has no tables") as gate:
        mart_gate(warehouses)
    with pytest.raises(StageFailure, match="nothing to publish") as publication:
        publish_marts(warehouses, "nothing_built")
    assert gate.value.report_path.exists() and publication.value.report_path.exists()
