"""A disk that really fills up (a small tmpfs) while ingesting and while publishing: nothing is lost
(landing byte-identical, serving intact, ledger consistent), the outcome is a report, a
``growthops status`` line and an exit code, never a traceback; freeing space and re-running works."""

from __future__ import annotations

import duckdb
import pytest

from growthops.commands.cli import main
from growthops.commands.status import collect_status, render
from growthops.failures import StageFailure
from growthops.reports import find_reports
from growthops.serve import publish as pub
from growthops.serve.stage import publish_marts

from .conftest import DAY, fill, orders_csv, put, sha256

pytestmark = pytest.mark.faults


def _rows(settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_disk_filling_up_during_ingest_loads_nothing_says_so_and_a_rerun_loads_it(
    small_disk, settings_on, capsys
):
    settings = settings_on(small_disk / "data")
    export = put(settings, "orders", "orders.csv", orders_csv(40_000))
    before = sha256(export)
    ballast = fill(small_disk, leave_bytes=1 << 20)  # room for the reports, not for the batch

    assert main(["ingest", "--source", "orders", "--day", DAY.isoformat()]) == 2
    err = capsys.readouterr().err
    assert "not loaded: orders: could not write the build database" in err
    assert "No space left on device" in err and "Is the disk full? Free space, then re-run" in err
    assert "Traceback" not in err
    assert sha256(export) == before
    assert _rows(settings, "select count(*) from raw.load_ledger") == [(0,)]
    status = collect_status(settings)
    orders = next(s for s in status.sources if s.source == "orders")
    assert orders.failures and status.needs_attention
    assert "FAILED load" in render(status) and "could not write the build database" in render(status)

    ballast.unlink()
    assert main(["ingest", "--source", "orders", "--day", DAY.isoformat()]) == 0
    assert _rows(settings, "select status, rows_loaded from raw.load_ledger") == [("loaded", 40_000)]
    assert _rows(settings, "select count(*), count(distinct order_id) from raw.shop_orders") == [
        (40_000, 40_000)
    ]
    assert sha256(export) == before


def _build_marts(settings, run_tag: str, rows: int) -> None:
    """Marts of incompressible rows (a version file of several MB)."""
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("create schema if not exists marts")
    for name in ("fct_orders", "dim_customers"):
        con.execute(
            f"create or replace table marts.{name} as select range as id, ? as run_tag, "
            "md5(range::varchar || random()::varchar) as h, random() as amount from range(?)",
            [run_tag, rows],
        )
    con.close()


def test_a_disk_filling_up_during_publish_keeps_serving_and_explains(small_disk, settings_on):
    settings = settings_on(small_disk / "data")
    settings.warehouse_dir.mkdir(parents=True)
    _build_marts(settings, "one", rows=1_000)
    pub.publish(settings, "one")
    served = sha256(settings.serving_path)
    _build_marts(settings, "two", rows=120_000)
    ballast = fill(small_disk, leave_bytes=1 << 20)

    with pytest.raises(StageFailure) as failure:
        publish_marts(settings, "two")
    message = str(failure.value)
    assert "Nothing was published" in message and "Traceback" not in message
    assert sha256(settings.serving_path) == served and pub.current_version(settings).run_id == "one"
    assert not [p for p in settings.versions_dir.iterdir() if ".building" in p.name or p.suffix == ".tmp"]
    [(_path, report)] = find_reports(settings)
    assert report["kind"] == "publication failed" and "is the disk full?" in report["summary"]
    status = collect_status(settings)
    assert status.marts.failed_builds and not status.marts.build_lost
    assert "FAILED" in render(status) and "could not write the new serving version" in render(status)

    ballast.unlink()
    publish_marts(settings, "two")
    assert pub.current_version(settings).run_id == "two"
    assert pub.current_version(settings).row_counts == {"dim_customers": 120_000, "fct_orders": 120_000}
