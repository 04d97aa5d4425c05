"""The bench's steady-state daily run: the backfilled history is re-dated as if loaded day by day."""

from __future__ import annotations

import os
import time
from datetime import date, datetime

import duckdb
import pytest

from growthops.commands.backfill import run_backfill
from growthops.commands.bench import as_if_loaded_day_by_day
from growthops.config import load_settings

HEADER = (
    "order_id,contact_id,created_at,updated_at,status,currency,gross_amount,discount_amount,refund_amount"
)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "data"))
    return load_settings()


def _put(settings, day: date, rows: list[str]) -> None:
    path = settings.landing_dir / "orders" / day.isoformat() / "orders.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    old = time.time() - 3600
    os.utime(path, (old, old))


def test_history_is_re_dated_to_the_morning_after_each_export_day(settings):
    ts1, ts2 = "2025-01-02T10:00:00+00:00", "2025-01-03T09:00:00+00:00"
    _put(settings, date(2025, 1, 2), [f"O1,C1,{ts1},{ts1},paid,USD,10.00,0.00,0.00"])
    _put(
        settings,
        date(2025, 1, 3),
        [f"O2,C2,{ts2},{ts2},paid,USD,5.00,0.00,0.00"],
    )
    run_backfill(settings, date(2025, 1, 2), date(2025, 1, 3), sources=("orders",), publish=False)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    before = dict(con.execute("select day, finished_at - started_at from raw.load_ledger").fetchall())
    con.close()

    assert as_if_loaded_day_by_day(settings) == 2

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    rows = con.execute("select order_id, _loaded_at from raw.shop_orders order by order_id").fetchall()
    assert rows == [("O1", datetime(2025, 1, 3, 2)), ("O2", datetime(2025, 1, 4, 2))]
    ledger = con.execute(
        "select day, started_at, finished_at - started_at from raw.load_ledger order by day"
    ).fetchall()
    assert [(d, s) for d, s, _ in ledger] == [
        (date(2025, 1, 2), datetime(2025, 1, 3, 2)),
        (date(2025, 1, 3), datetime(2025, 1, 4, 2)),
    ]
    assert {d: took for d, _, took in ledger} == before  # each load keeps its duration
    con.close()


def test_summary_shows_each_backfill_stage_with_the_peak_memory_at_its_end():
    from growthops.commands.bench_summary import summary_markdown

    pipeline = {
        "stage": "pipeline",
        "wall_seconds": 1228.1,
        "peak_rss_mb": 7606.9,
        "backfill_seconds": 800.0,
        "backfill_stage_seconds": {"ingest": 400.0, "dbt": 280.0, "mart_gate": 80.0, "publish": 40.0},
        "backfill_stage_share": {"ingest": "50%", "dbt": "35%", "mart_gate": "10%", "publish": "5%"},
        "backfill_peak_rss_mb_after_stage": {
            "ingest": 7606.9,
            "dbt": 7606.9,
            "mart_gate": 7606.9,
            "publish": 7606.9,
        },
        "raw_gate_gx_seconds_within_ingest": 120.0,
        "daily_airflow_seconds": 397.5,
        "daily_runs": {"growthops_ingest_fx": 23.7, "growthops_transform": 335.5},
    }
    text = summary_markdown({"pipeline": pipeline, "floor": {"stage": "floor", "wall_seconds": 101.0,
                                                              "peak_rss_mb": 4842.6, "floor_seconds": 100.0}})  # fmt: skip
    assert "| ingest | 400.0 | 50% | 7,607 |" in text
    assert "| of which GX (raw gate) | 120.0 | 15% | |" in text
    assert "mart gate" not in text.split("| mart_gate |")[1]  # an older result: no mart-gate GX row
    measured = summary_markdown({"pipeline": {**pipeline, "mart_gate_gx_seconds_within_mart_gate": 16.0}})
    assert "| of which GX (mart gate) | 16.0 | 2% | |" in measured
    assert "| of which GX (raw and mart gate) | 136.0 | 17% | |" in measured
    assert "- **pipeline/floor: 8.0x**" in text
    assert "growthops_transform 335.5" in text
    assert "by task" not in text and "daily run (its" not in text  # an older result: no such lines
    with_rss = summary_markdown({"pipeline": {**pipeline, "daily_peak_rss_mb": 3456.7}})
    assert "- peak RSS of the daily run (its process, dbt builds included): 3,457 MB\n" in with_rss
    after = {"growthops_ingest_fx": 812.4, "growthops_transform": 3456.7}
    by_run = summary_markdown(
        {"pipeline": {**pipeline, "daily_peak_rss_mb": 3456.7, "daily_peak_rss_mb_after_run": after}}
    )
    assert "3,457 MB (so far, after each DAG run: ingest_fx 812, transform 3,457)" in by_run
    tasks = {"dbt.build": 141.6, "mart_gate": 42.7, "publish": 22.9, "dbt node tasks (43)": 6.7}
    by_task = summary_markdown({"pipeline": {**pipeline, "daily_transform_task_seconds": tasks}})
    assert (
        "- the day's transform DAG by task (s): dbt.build 141.6, mart_gate 42.7, publish 22.9, "
        "dbt node tasks (43) 6.7" in by_task
    )


def test_summary_separates_the_fixed_cost_from_what_the_data_costs():
    from growthops.commands.bench_summary import summary_markdown

    pipeline = {
        "stage": "pipeline", "wall_seconds": 120.0, "peak_rss_mb": 1200.0,
        "backfill_seconds": 50.0, "backfill_stage_seconds": {"ingest": 20.0, "dbt": 30.0},
        "backfill_stage_share": {"ingest": "40%", "dbt": "60%"},
        "raw_gate_gx_seconds_within_ingest": 4.0,
        "daily_airflow_seconds": 44.0, "daily_runs": {"growthops_transform": 26.0},
    }  # fmt: skip
    fixed = {
        "stage": "fixed", "wall_seconds": 90.0, "peak_rss_mb": 600.0,
        "fixed_scale": 0.001, "fixed_orders": 10412,
        "backfill_seconds": 34.0, "backfill_stage_seconds": {"ingest": 8.0, "dbt": 26.0},
        "daily_airflow_seconds": 42.0, "daily_runs": {"growthops_ingest_fx": 9.8, "growthops_transform": 20.7},
        "daily_transform_task_seconds": {"dbt.build": 12.8, "dbt node tasks (43)": 4.5},
    }  # fmt: skip
    floor = {"stage": "floor", "wall_seconds": 3.0, "peak_rss_mb": 600.0, "floor_seconds": 2.5}
    text = summary_markdown({"pipeline": pipeline, "floor": floor, "fixed": fixed})
    assert (
        "- fixed cost, the same runs on a world of 10,412 orders (scale 0.001): backfill 34.0 s, one day "
        "through Airflow 42.0 s (growthops_ingest_fx 9.8, growthops_transform 20.7); its transform DAG by "
        "task (s): dbt.build 12.8, dbt node tasks (43) 4.5\n" in text
    )
    assert "- one day through Airflow above the fixed cost: 2.0 s of 44.0 s (5%)\n" in text
    assert "- backfill above the fixed cost: 16.0 s = 6.4x the floor\n" in text
    transform = {"stage": "transform", "wall_seconds": 40.0, "peak_rss_mb": 90.0, "transform_dag_seconds": 33.3,
                 "transform_dag_ok": True, "transform_dag_peak_rss_mb": 4456.2}  # fmt: skip
    with_transform = summary_markdown({"transform": transform})
    assert "- transform DAG, transform dag: 33.3 s\n" in with_transform
    assert "- transform DAG alone, peak RSS of its process: 4,456 MB\n" in with_transform
    alone = summary_markdown({"fixed": fixed})  # the stage run alone: no comparison
    assert "fixed cost, the same runs" in alone and "above the fixed cost" not in alone
    assert "| fixed | 90.0 | 600 |" in alone


def test_backfill_summary_names_the_peak_memory_after_each_stage():
    from growthops.commands.backfill import BackfillResult

    result = BackfillResult(start=date(2025, 1, 1), end=date(2025, 1, 2))
    result.seconds = {"ingest": 3.0, "dbt": 1.0}
    result.peak_rss_mb = {"ingest": 812.4, "dbt": 1530.0}
    assert "peak RSS after each stage: ingest 812 MB, dbt 1,530 MB" in result.summary()
    assert "Great Expectations" not in result.summary()  # no mart gate ran
    result.mart_gate_gx_seconds = 2.31
    assert "of the mart gate, Great Expectations 2.3s" in result.summary()


def test_pipeline_bench_refuses_before_the_backfill_without_a_dbt_manifest(tmp_path, monkeypatch):
    from growthops.build import dbt
    from growthops.commands import backfill, bench

    backfills: list[tuple] = []
    monkeypatch.setattr(dbt, "MANIFEST_PATH", tmp_path / "target" / "manifest.json")
    monkeypatch.setattr(backfill, "run_backfill", lambda *a, **k: backfills.append(a))
    ctx = bench.BenchContext(
        workdir=tmp_path, scale=0.01, start=date(2025, 1, 1), end=date(2025, 1, 3), seed=1
    )
    with pytest.raises(FileNotFoundError, match="make manifest"):
        bench.bench_pipeline(ctx)
    assert backfills == []


def test_pipeline_bench_starts_from_an_empty_data_root_on_a_kept_workdir(tmp_path):
    from growthops.commands import bench

    ctx = bench.BenchContext(
        workdir=tmp_path, scale=0.01, start=date(2025, 1, 1), end=date(2025, 1, 3), seed=1
    )
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / "kept.csv").write_text("x\n")
    for name in ("pipeline-data", "pipeline-airflow"):
        (tmp_path / name / "warehouse").mkdir(parents=True)
        (tmp_path / name / "warehouse" / "growthops.duckdb").write_text("loaded before")
    data_dir, airflow_home = bench.fresh_pipeline_dirs(ctx)
    assert (data_dir, airflow_home) == (tmp_path / "pipeline-data", tmp_path / "pipeline-airflow")
    assert not data_dir.exists() and not airflow_home.exists()
    assert (tmp_path / "landing" / "kept.csv").read_text() == "x\n"  # the generated exports stay


def test_the_floor_reads_every_landing_file_before_it_is_timed(tmp_path):
    from growthops.commands.bench_floor import read_landing_once

    (tmp_path / "orders" / "2025-01-02").mkdir(parents=True)
    (tmp_path / "orders" / "2025-01-02" / "orders.csv").write_bytes(b"x" * 3_000_000)
    (tmp_path / "fx" / "2025-01-02").mkdir(parents=True)
    (tmp_path / "fx" / "2025-01-02" / "rates.csv").write_bytes(b"rate_date\n")
    assert read_landing_once(tmp_path) == (2, 3_000_010)


def test_the_transform_runs_time_is_read_per_task_with_the_dbt_node_tasks_together(tmp_path):
    """The latest run of the transform DAG only; the dbt node tasks as one span (they run one
    after another between the producer and the mart gate); other DAGs and runs ignored."""
    import sqlite3

    from growthops.commands.bench_transform import transform_task_seconds

    db = tmp_path / "airflow.db"
    with sqlite3.connect(db) as con:
        con.execute("create table dag_run (dag_id text, run_id text, start_date text)")
        con.execute(
            "create table task_instance (dag_id text, run_id text, task_id text, start_date text, end_date text)"
        )
        con.executemany(
            "insert into dag_run values (?, ?, ?)",
            [("growthops_transform", "old", "2026-12-01 09:00:00.000000"),
             ("growthops_transform", "new", "2026-12-01 10:00:00.000000"),
             ("growthops_ingest_fx", "fx", "2026-12-01 11:00:00.000000")],
        )  # fmt: skip
        con.executemany(
            "insert into task_instance values (?, ?, ?, ?, ?)",
            [("growthops_transform", "old", "dbt.build", "2026-12-01 09:00:00", "2026-12-01 09:09:00"),
             ("growthops_transform", "new", "sync_raw", "2026-12-01 10:00:00.000000", "2026-12-01 10:00:00.250000"),
             ("growthops_transform", "new", "dbt.build", "2026-12-01 10:00:00.300000", "2026-12-01 10:00:10.700000"),
             ("growthops_transform", "new", "dbt.stg_orders__orders", "2026-12-01 10:00:10.800000", "2026-12-01 10:00:10.850000"),
             ("growthops_transform", "new", "dbt.fct_orders", "2026-12-01 10:00:10.900000", "2026-12-01 10:00:11.000000"),
             ("growthops_transform", "new", "dbt.tests_across_models", "2026-12-01 10:00:13.000000", "2026-12-01 10:00:14.000000"),
             ("growthops_transform", "new", "mart_gate", "2026-12-01 10:00:14.100000", "2026-12-01 10:00:16.800000"),
             ("growthops_transform", "new", "publish", "2026-12-01 10:00:16.900000", None),
             ("growthops_ingest_fx", "fx", "load_fx", "2026-12-01 11:00:00", "2026-12-01 11:00:05")],
        )  # fmt: skip
    assert transform_task_seconds(db) == {
        "sync_raw": 0.2,
        "dbt.build": 10.4,
        "mart_gate": 2.7,
        "dbt node tasks (3)": 3.2,  # 10.8 .. 14.0
    }
    assert transform_task_seconds(tmp_path / "elsewhere.db") == {}
