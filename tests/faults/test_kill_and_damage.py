"""Processes killed with SIGKILL and files damaged on disk: nothing lost, every outcome explained.

(A publisher killed mid-way, and a serving file truncated or held read-write, are covered in
tests/serve/test_publish_concurrency.py and tests/serve/test_faults.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from growthops.commands.cli import main
from growthops.commands.status import collect_status
from growthops.serve import publish as pub

from .conftest import DAY, orders_csv, put, sha256

pytestmark = pytest.mark.faults


def test_an_ingest_killed_mid_way_loses_nothing_and_a_rerun_loads_each_row_once(tmp_path, settings_on):
    root = tmp_path / "data"
    settings = settings_on(root)
    export = put(settings, "orders", "orders.csv", orders_csv(60_000))
    before = sha256(export)
    env = dict(os.environ, GROWTHOPS_DATA_DIR=str(root), GX_ANALYTICS_ENABLED="False")
    proc = subprocess.Popen(
        [sys.executable, "-m", "growthops.commands.cli", "ingest", "--source", "orders", "--day", str(DAY)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while proc.poll() is None and not settings.warehouse_path.exists():  # it holds the build DB
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    assert sha256(export) == before
    assert main(["ingest", "--source", "orders", "--day", DAY.isoformat()]) == 0
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        assert con.execute("select status, rows_loaded from raw.load_ledger").fetchall() == [
            ("loaded", 60_000)
        ]
        assert con.execute("select count(*), count(distinct order_id) from raw.shop_orders").fetchone() == (
            60_000,
            60_000,
        )
    finally:
        con.close()
    assert sha256(export) == before
    orders = next(s for s in collect_status(settings).sources if s.source == "orders")
    assert orders.last_day == DAY.isoformat() and not orders.failures


def test_a_truncated_kept_version_is_skipped_by_rollback_and_listed_unreadable(tmp_path, settings_on, capsys):
    settings = settings_on(tmp_path / "data")
    settings.warehouse_dir.mkdir(parents=True)
    for run in ("one", "two", "three"):
        con = duckdb.connect(str(settings.warehouse_path))
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.fct_orders as select range as id, ? as run from range(50)", [run]
        )
        con.close()
        pub.publish(settings, run)
    served = sha256(settings.serving_path)
    [kept_two] = [p for p in pub.list_versions(settings) if p.name.endswith("-two.duckdb")]
    kept_two.chmod(0o644)
    with kept_two.open("r+b") as fh:
        fh.truncate(4096)

    assert sha256(settings.serving_path) == served  # an independent copy: BI's file is untouched
    assert main(["rollback", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "(unreadable: damaged file)" in listed and kept_two.name in listed
    assert main(["rollback"]) == 0  # "two" is damaged: the previous intact version of the lineage
    out, err = capsys.readouterr()
    assert "now serving run one" in out and "Traceback" not in err
    assert pub.current_version(settings).run_id == "one"
