"""Mart gate, publication and transient failures report in one screen; BI keeps the last good version."""

from __future__ import annotations

import time
from types import SimpleNamespace

import duckdb
import pytest
from conftest import BASE_RUN, airflow_task, assert_bi_still_reads, report_of
from duckdb_holder import held_read_write

from growthops.failures import StageFailure
from growthops.gate.stage import mart_gate
from growthops.serve.publish import current_version
from growthops.serve.stage import publish_marts

DAG = "growthops_transform"
RUN = "asset_triggered__2025-01-04T06:10:00+00:00"


def _build_db(settings, sql: str) -> None:
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute(sql)
    finally:
        con.close()


def test_mart_gate_failure(data):
    con = duckdb.connect(str(data.warehouse_path))
    total = con.execute("select sum(net_revenue) from marts.fct_orders").fetchone()[0]
    order_id, source_file, source_line = con.execute(
        """
        select f.order_id, r._source_file, r._source_line
        from marts.fct_orders as f
        join raw.shop_orders as r on r.order_id = f.order_id and r._batch_id = f.source_batch_id
        where f.is_valid order by f.order_id limit 1
        """
    ).fetchone()
    con.execute("update marts.fct_orders set net_revenue = net_revenue + 1000 where order_id = ?", [order_id])
    con.close()

    with airflow_task(DAG, "mart_gate", RUN, logical_date=None), pytest.raises(StageFailure) as failure:
        # every day: no load touched the tampered order's day, so the daily gate would name the
        # per-day total it breaks instead of the order (tests/gate/test_daily_gate.py)
        mart_gate(data, full=True)

    md, js = report_of(data, DAG, RUN, "mart_gate")
    assert str(failure.value.report_path) == js["report_path"]
    assert js["kind"] == "mart gate failed"
    assert js["summary"] == (
        "mart gate failed 1 check(s): net revenue equals that of the latest raw orders — nothing was published"
    )
    [check] = js["checks"]
    assert check["name"].startswith("net revenue equals that of the latest raw orders")
    assert check["observed"] == f"{float(total) + 1000:,.4f}"
    assert check["expected"] == f"{float(total):,.4f}"
    assert f"| {check['name']} | {check['observed']} | {check['expected']} |" in md
    [row] = [r for r in js["sample_rows"] if r.get("order_id") == order_id]
    assert row["difference"] == pytest.approx(1000.0)
    assert (row["source_file"], row["source_line"]) == (source_file, source_line)
    assert js["source_file"] == source_file and f"- file: `{source_file}`" in md
    assert "airflow dags trigger growthops_transform" in md  # an asset-triggered run has no logical date
    assert_bi_still_reads(md, js)
    assert current_version(data).run_id == BASE_RUN


def test_publication_failure_keeps_serving_the_last_version(data):
    before = data.serving_path.read_bytes()
    _build_db(data, "drop schema marts cascade")  # a build DB without marts: nothing to publish

    with airflow_task(DAG, "publish", RUN, logical_date=None), pytest.raises(StageFailure):
        publish_marts(data, RUN)

    md, js = report_of(data, DAG, RUN, "publish")
    assert js["kind"] == "publication failed"
    assert js["summary"] == (
        f"publication of run {RUN} failed, nothing was published: "
        "schema marts of growthops has no tables: nothing to publish"
    )
    assert f"- where: {DAG} / publish / {RUN} (try 1 of 1)" in md
    assert_bi_still_reads(md, js)
    assert data.serving_path.read_bytes() == before
    assert current_version(data).run_id == BASE_RUN


@pytest.fixture
def locked_warehouse(data):
    """Another process holds the build DB read-write (a manual backfill, a stuck task)."""
    with held_read_write(data.warehouse_path):
        yield data


def test_transient_failure_reports_only_on_the_last_try(locked_warehouse, monkeypatch):
    import growthops.warehouse

    data = locked_warehouse
    # the lock retry backs off 0.5 + 1 + 2 + 4 s: skip the waiting, keep the attempts
    monkeypatch.setattr(growthops.warehouse, "time", SimpleNamespace(sleep=lambda _s: None))
    run = "scheduled__2025-01-04T00:00:00+00:00"

    with (
        airflow_task(DAG, "mart_gate", run, try_number=1, retries=3),
        pytest.raises(growthops.warehouse.WarehouseLocked),
    ):
        mart_gate(data)
    assert not (data.runs_dir / DAG).exists(), "an early try is retried by Airflow: no report yet"

    started = time.monotonic()
    with (
        airflow_task(DAG, "mart_gate", run, try_number=4, retries=3),
        pytest.raises(growthops.warehouse.WarehouseLocked),
    ):
        mart_gate(data)
    assert time.monotonic() - started < 10

    md, js = report_of(data, DAG, run, "mart_gate")
    assert js["kind"] == "transient failure"
    assert js["summary"].startswith("the mart gate could not read the build warehouse:")
    assert "is locked by another process" in js["summary"]
    assert f"- where: {DAG} / mart_gate / {run} (try 4 of 4)" in md
    assert (
        f"airflow tasks clear {DAG} -t '^mart_gate$' -s 2025-01-04T00:00:00+00:00 "
        "-e 2025-01-04T00:00:00+00:00 -f -d -y" in md
    )
    assert_bi_still_reads(md, js)
