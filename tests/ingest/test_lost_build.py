"""A missing or emptied build database is detected against the load ledger (and the publish log:
tests/serve/test_faults.py) before anything is loaded into it: refused by default, saying what was
found and the command to run, or rebuilt from landing when configured."""

from __future__ import annotations

from datetime import date

import duckdb

from growthops.commands.cli import main
from growthops.config import load_settings
from growthops.ingest.loader import load_range

from .conftest import orders_csv

D1, D2 = date(2025, 1, 2), date(2025, 1, 3)


def _empty_raw_orders(settings) -> None:
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("delete from raw.shop_orders")
    con.close()


def test_an_emptied_build_database_is_refused_then_rebuilt_from_landing(
    settings, landing, wh, monkeypatch, capsys
):
    d1 = landing.put("orders", "orders.csv", orders_csv(3, day=D1), day=D1)
    landing.put("orders", "orders.csv", orders_csv(2, day=D2), day=D2)
    load_range(settings, "orders", D1, D1)
    assert wh.count("raw.shop_orders") == 3
    _empty_raw_orders(settings)

    # default policy: refuse, nothing loaded, the finding and the command said
    assert main(["ingest", "--source", "orders", "--day", D2.isoformat()]) == 2
    err = capsys.readouterr().err
    assert "raw.shop_orders: 0 row(s), the load ledger says 3 were loaded" in err
    assert "refused (lost_build_database = 'refuse'); nothing was loaded" in err
    assert f"GROWTHOPS_INGEST_LOST_BUILD_DATABASE=rebuild growthops backfill --start {D1} --end {D2}" in err
    assert "Traceback" not in err
    assert wh.count("raw.shop_orders") == 0 and wh.count("raw.load_ledger") == 1

    # rebuild: every export in landing again (D1 back with its batch id), then the day asked for
    monkeypatch.setenv("GROWTHOPS_INGEST_LOST_BUILD_DATABASE", "rebuild")
    assert main(["ingest", "--source", "orders", "--day", D2.isoformat()]) == 0
    assert wh.rows("select _batch_day, count(*) from raw.shop_orders group by all order by 1") == [
        (D1, 3),
        (D2, 2),
    ]
    assert wh.rows("select day, status, rows_loaded, superseded_by from raw.load_ledger order by day") == [
        (D1, "loaded", 3, None),
        (D2, "loaded", 2, None),
    ]
    assert d1.read_bytes() == orders_csv(3, day=D1).encode()  # landing untouched


def test_the_daily_load_task_reports_a_lost_build_database(settings, landing, wh):
    from airflow.sdk.exceptions import AirflowFailException

    from growthops.orchestration.ingest_tasks import load

    landing.put("orders", "orders.csv", orders_csv(3, day=D1), day=D1)
    landing.put("orders", "orders.csv", orders_csv(2, day=D2), day=D2)
    load_range(settings, "orders", D1, D1)
    _empty_raw_orders(settings)
    try:
        load("orders", D2, settings=load_settings())
    except AirflowFailException as exc:  # a data failure: no retry
        text = str(exc)
    else:
        raise AssertionError("the load of a lost build database was not refused")
    assert "FAILED (build database lost)" in text and "raw.shop_orders: 0 row(s)" in text
    assert f"GROWTHOPS_INGEST_LOST_BUILD_DATABASE=rebuild growthops backfill --start {D1} --end {D2}" in text
    assert wh.count("raw.load_ledger") == 1
