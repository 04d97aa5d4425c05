"""dbt failures report the failing node (test rows traced to export file and line); a replay of a
corrected file publishes new marts.

These tests share the ``live`` data root (dbt's partial parse is only valid there): each restores
what it breaks, and the replay - which publishes - runs last in this module.
"""

from __future__ import annotations

from contextlib import contextmanager

import duckdb
import pytest
from airflow.sdk.exceptions import AirflowFailException
from conftest import NEXT_DAY, ORDERS_HEADER, airflow_task, assert_bi_still_reads, order_line, put, report_of
from duckdb_holder import held_read_write

from growthops.orchestration.dbt_tasks import run_dbt_step
from growthops.serve.publish import current_version, read_history

DAG = "growthops_transform"
RUN = "asset_triggered__2025-01-04T06:10:00+00:00"


@contextmanager
def build_db(settings):
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        yield con
    finally:
        con.close()


def test_dbt_test_failure_traces_the_failing_rows_to_their_file_and_line(live):
    served = current_version(live).run_id
    with build_db(live) as con:
        order_id, source_file, line, day = con.execute(
            "select order_id, _source_file, _source_line, _batch_day from raw.shop_orders"
            " order by _source_file, _source_line limit 1"
        ).fetchone()
        rows_before = con.execute("select count(*) from raw.shop_orders").fetchone()[0]
        [sha256] = con.execute(
            "select sha256 from raw.load_ledger where source_file = ?", [source_file]
        ).fetchone()
        # the same order twice in one file (as if the export repeated a line)
        con.execute(
            "insert into raw.shop_orders select * from raw.shop_orders where _source_file = ? and _source_line = ?",
            [source_file, line],
        )
    task = "dbt.source_tests"
    try:
        with airflow_task(DAG, task, RUN, logical_date=None), pytest.raises(AirflowFailException) as failure:
            run_dbt_step(["test", "--select", "source:orders"])
    finally:
        with build_db(live) as con:
            con.execute(
                "delete from raw.shop_orders where rowid = (select max(rowid) from raw.shop_orders"
                " where _source_file = ? and _source_line = ?)",
                [source_file, line],
            )
            assert con.execute("select count(*) from raw.shop_orders").fetchone()[0] == rows_before

    md, js = report_of(live, DAG, RUN, task)
    assert js["kind"] == "dbt test failure"
    [check] = js["checks"]
    assert check["name"].startswith("dbt test raw_shop_orders_order_id_unique_within_file")
    assert (check["observed"], check["expected"]) == ("1 failing row(s)", "0 rows")
    assert "on orders.shop_orders" in check["detail"] and "_orders__sources.yml" in check["detail"]
    # both copies of the order, with the export file and line they were loaded from
    assert [(r["file"], r["line"], r["order_id"]) for r in js["sample_rows"]] == [
        (source_file, line, order_id)
    ] * 2
    assert js["summary"] == (
        "dbt test raw_shop_orders_order_id_unique_within_file failed "
        f"(1 failing row(s), e.g. {source_file} line {line}); nothing downstream was built or published"
    )
    assert js["source_file"] == source_file and (js["source"], js["day"]) == ("orders", day.isoformat())
    assert js["sha256"] == sha256 and f"- file: `{source_file}` (sha256 {sha256})" in md
    assert f"growthops replay orders {day.isoformat()}   # after correcting the export" in md
    assert "airflow dags trigger growthops_transform" in md
    assert_bi_still_reads(md, js, served)
    # the task fails with the summary, the report path and the commands: the log ends with them
    message = str(failure.value)
    assert message.splitlines()[0] == f"FAILED (dbt test failure): {js['summary']}"
    assert f"report: {js['report_path']}" in message and "growthops replay orders" in message


def test_dbt_model_error_names_the_model_file_and_the_error(live):
    served = current_version(live).run_id
    with build_db(live) as con:
        con.execute("alter table raw.shop_orders rename column status to order_status")  # a schema drift
    task = "dbt.stg_orders__orders.run"
    try:
        with airflow_task(DAG, task, RUN, logical_date=None), pytest.raises(AirflowFailException):
            run_dbt_step(["run", "--select", "stg_orders__orders"])
    finally:
        with build_db(live) as con:
            con.execute("alter table raw.shop_orders rename column order_status to status")

    md, js = report_of(live, DAG, RUN, task)
    assert js["kind"] == "dbt model error"
    [check] = js["checks"]
    assert check["name"] == "dbt model stg_orders__orders"
    assert check["observed"].startswith("Binder Error: ") and '"status"' in check["observed"]
    assert check["expected"] == "builds without error"
    assert check["detail"] == "models/staging/orders/stg_orders__orders.sql"
    assert js["summary"] == (
        f"dbt model stg_orders__orders failed to build: {check['observed']}; nothing was published"
    )
    assert "LINE" not in js["summary"] and "LINE" in md  # the SQL position stays in the dbt section
    assert "`models/staging/orders/stg_orders__orders.sql`" in md
    assert "airflow dags trigger growthops_transform" in md
    assert_bi_still_reads(md, js, served)


def test_a_locked_warehouse_is_retried_then_reported_on_the_last_try(live):
    served = current_version(live).run_id
    task = "dbt.stg_orders__orders.run"
    run = "scheduled__2025-01-04T00:00:00+00:00"
    with (
        held_read_write(live.warehouse_path) as holder,
        airflow_task(DAG, task, run, try_number=3, retries=2),
        pytest.raises(RuntimeError) as failure,
    ):
        run_dbt_step(["run", "--select", "stg_orders__orders"])

    assert not isinstance(failure.value, AirflowFailException)  # retryable, not a data failure
    md, js = report_of(live, DAG, run, task)
    assert js["kind"] == "transient failure"
    assert js["summary"].startswith("dbt run --select stg_orders__orders could not lock the warehouse: ")
    assert f"(PID {holder.pid})" in js["summary"]  # who holds the lock
    assert f"- where: {DAG} / {task} / {run} (try 3 of 3)" in md
    assert f"airflow tasks clear {DAG} -t '^{task}$' -s 2025-01-04T00:00:00+00:00" in md
    assert_bi_still_reads(md, js, served)


def test_replay_of_a_corrected_file_publishes_new_marts(live, capsys):
    from growthops.commands.cli import main

    before = current_version(live)
    rows = [order_line(i) for i in range(1, 21)]
    rows[4] = order_line(5, gross="-55.00")  # line 6
    put(live, "orders", "orders.csv", "\n".join([ORDERS_HEADER, *rows]) + "\n")
    from growthops.orchestration.ingest_tasks import load

    with pytest.raises(AirflowFailException):
        load("orders", NEXT_DAY, settings=live)
    quarantined = live.quarantine_dir / "orders" / "2025-01-04" / "orders.csv"
    assert quarantined.exists()
    assert main(["status", "--as-of", "2025-01-04T08:00"]) == 1
    assert "quarantined: orders/2025-01-04/orders.csv" in capsys.readouterr().out

    # on-call corrects the line in quarantine and replays it
    quarantined.write_text(quarantined.read_text().replace("-55.00", "55.00"))
    assert main(["replay", "orders", "2025-01-04", "--from-quarantine"]) == 0
    out = capsys.readouterr().out

    after = current_version(live)
    assert after.run_id.startswith("replay__orders_2025-01-04__") and after.run_id != before.run_id
    assert f"BI now reads run {after.run_id}" in out
    assert [row["run_id"] for row in after.lineage][-2:] == [before.run_id, after.run_id]
    assert read_history(live)[-1]["run_id"] == after.run_id
    assert not quarantined.exists()
    assert (live.landing_dir / "orders" / "2025-01-04" / "orders.csv").exists()
    con = duckdb.connect(str(live.serving_path), read_only=True)
    try:
        revenue = con.execute(
            "select order_date::varchar, net_revenue from marts.fct_orders where order_id = 'OC0005'"
        ).fetchone()
        assert con.execute("select count(*) from marts.fct_orders where order_id like 'OC%'").fetchone() == (
            20,
        )
    finally:
        con.close()
    assert revenue == ("2025-01-04", 55)
    # nothing needs attention any more: the quarantined file is back and loaded, its report superseded
    assert main(["status", "--as-of", "2025-01-04T08:00"]) == 0
    status = capsys.readouterr().out
    assert f"marts: BI reads run {after.run_id}" in status and "all good" in status
