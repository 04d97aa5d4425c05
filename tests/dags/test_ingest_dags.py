"""The ingest DAGs: their operating contract, their task logic, and `airflow dags test` end to end."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from world import BAD_ORDERS_DAY, INGEST_DAYS, ONE_PROCESS_SOURCES

from growthops.config import load_settings
from growthops.errors import DataQualityError, QualityCheck, QualityReport, ValidatorError
from growthops.warehouse import WarehouseLocked

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("channel", "crm", "orders", "fx")  # the required exports (messages and costs: tests/generate)
RAW = {
    "channel": "raw.channel_performance",
    "crm": "raw.crm_contacts",
    "orders": "raw.shop_orders",
    "fx": "raw.fx_rates",
}


# --------------------------------------------------------------------------------------------------
# structure (parsed in-process, no metadata DB needed)


@pytest.fixture(scope="module")
def ingest_dags():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert {f: e for f, e in bag.import_errors.items() if "ingest" in f} == {}
    return {s: bag.dags[f"growthops_ingest_{s}"] for s in SOURCES}


@pytest.mark.parametrize("source", SOURCES)
def test_daily_schedule_with_catchup_and_a_static_start(ingest_dags, source):
    from airflow.sdk import CronDataIntervalTimetable

    dag = ingest_dags[source]
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.expression == "0 0 * * *" and str(dag.timetable.timezone) == "UTC"
    assert dag.catchup is True
    assert dag.start_date == datetime(2025, 1, 1, tzinfo=UTC)
    assert {"growthops", "ingest", source} <= set(dag.tags)
    assert dag.params["day"] is None


@pytest.mark.parametrize("source", SOURCES)
def test_sensor_reschedules_and_load_is_pooled_and_emits_the_asset(ingest_dags, source):
    dag = ingest_dags[source]
    sensor, load = dag.get_task(f"wait_for_{source}_export"), dag.get_task(f"load_{source}")
    assert sensor.mode == "reschedule"  # no worker slot held while waiting
    assert sensor.poke_interval >= 60
    assert sensor.outlets == []
    assert load.pool == "growthops_duckdb"  # DuckDB writes serialised
    assert [a.uri for a in load.outlets] == [f"growthops://raw/{source}"]
    assert load.upstream_task_ids == {sensor.task_id}
    for t in (sensor, load):
        assert t.owner == "growthops" and t.retries >= 1
        assert t.retry_exponential_backoff > 1  # a multiplier: > 1 really backs off


# --------------------------------------------------------------------------------------------------
# task logic, without Airflow running


class FakeRun:
    run_after = datetime(2025, 3, 2, 0, 0, tzinfo=UTC)


def test_export_day_from_the_run():
    from growthops.orchestration.ingest_tasks import export_day

    assert export_day({"logical_date": datetime(2025, 3, 1, tzinfo=UTC)}) == date(2025, 3, 1)
    assert export_day(
        {"logical_date": datetime(2025, 3, 1, tzinfo=UTC), "params": {"day": "2024-12-31"}}
    ) == date(2024, 12, 31)
    assert export_day({"logical_date": None, "data_interval_start": None, "dag_run": FakeRun()}) == date(
        2025, 3, 1
    )


def test_poke_waits_then_succeeds_then_gives_up_when_overdue(tmp_path, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    from growthops.orchestration.ingest_tasks import poke

    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path))
    settings = load_settings()
    day = date(2025, 1, 3)
    soon = datetime(2025, 1, 4, 3, 0, tzinfo=UTC)
    assert poke("orders", day, settings=settings, now=soon)[0] is False
    folder = settings.landing_dir / "orders" / day.isoformat()
    folder.mkdir(parents=True)
    (folder / "orders.csv.part").write_text("order_id\n")
    done, _, message = poke("orders", day, settings=settings, now=soon)
    assert not done and "still being written" in message
    (folder / "orders.csv.part").rename(folder / "orders.csv")
    import os

    os.utime(folder / "orders.csv", (0, 0))
    assert poke("orders", day, settings=settings, now=soon)[:2] == (True, ["orders/2025-01-03/orders.csv"])
    with pytest.raises(AirflowFailException, match="overdue"):
        poke("crm", day, settings=settings, now=datetime(2025, 1, 10, tzinfo=UTC))


def _report():
    return QualityReport(
        kind="raw gate failed",
        source="orders",
        day="2025-01-03",
        source_file="orders/2025-01-03/orders.csv",
        sha256="ab" * 32,
        checks=[QualityCheck("not_in_enumeration", "3 rows", "0 rows", column="status", lines=[4, 9, 12])],
        quarantine_path="/q/orders/2025-01-03/orders.csv",
    )


def test_load_turns_a_data_error_into_fail_without_retry_and_writes_a_report(tmp_path, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    from growthops.ingest import loader
    from growthops.orchestration import ingest_tasks as tasks

    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path))

    def bad(*args, **kwargs):
        raise DataQualityError(_report())

    monkeypatch.setattr(loader, "ingest_day", bad)
    with pytest.raises(AirflowFailException) as exc:
        tasks.load("orders", date(2025, 1, 3))
    text = str(exc.value)
    assert (
        "orders/2025-01-03/orders.csv" in text and "lines 4, 9, 12" in text and "not_in_enumeration" in text
    )
    assert "Traceback" not in text
    [report] = list((tmp_path / "runs").rglob("*.json"))
    data = json.loads(report.read_text())
    assert data["kind"] == "raw gate failed" and data["quarantined_to"] == "/q/orders/2025-01-03/orders.csv"


def test_load_reports_a_validator_crash_as_such(tmp_path, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    from growthops.ingest import loader
    from growthops.orchestration import ingest_tasks as tasks

    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path))

    def crash(*args, **kwargs):
        raise ValidatorError("orders: raw gate (row suite) crashed: KeyError")

    monkeypatch.setattr(loader, "ingest_day", crash)
    with pytest.raises(
        AirflowFailException, match=r"^FAILED \(validator error\): orders 2025-01-03: the raw gate crashed"
    ) as exc:
        tasks.load("orders", date(2025, 1, 3))
    assert "validator error, not a data failure" in str(exc.value)
    [report] = list((tmp_path / "runs").rglob("*.json"))
    assert json.loads(report.read_text())["kind"] == "validator error"


@pytest.mark.parametrize("error", [WarehouseLocked("locked"), OSError("disk"), duckdb.IOException("io")])
def test_load_reraises_transient_errors_for_a_retry(tmp_path, monkeypatch, error):
    from growthops.ingest import loader
    from growthops.orchestration import ingest_tasks as tasks

    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path))

    def flaky(*args, **kwargs):
        raise error

    monkeypatch.setattr(loader, "ingest_day", flaky)
    with pytest.raises(type(error)):
        tasks.load("orders", date(2025, 1, 3))


# --------------------------------------------------------------------------------------------------
# end to end: `airflow dags test` on generated exports (``ingest_dag_data``, root conftest)


def _raw_count(data: Path, source: str, day: date) -> int:
    con = duckdb.connect(str(data / "warehouse" / "growthops.duckdb"), read_only=True)
    try:
        return con.execute(f"select count(*) from {RAW[source]} where _batch_day = ?", [day]).fetchone()[0]
    finally:
        con.close()


def _asset_events(airflow_env, source: str) -> list[dict]:
    return airflow_env.asset_events(f"growthops://raw/{source}")


def _generated_rows(summary: dict, source: str, day: date) -> int:
    """Rows the generator wrote for ``source`` on ``day`` (all parts of a multi-part day)."""
    per_day = summary["sources"][source]["per_day"][day.isoformat()]
    expected = sum(per_day.values()) if isinstance(per_day, dict) else per_day
    assert expected > 0
    return expected


def _assert_loaded_once(airflow_env, data: Path, source: str, day: date, expected: int) -> None:
    """Raw holds the day's generated rows, and exactly one asset event announced that many."""
    assert _raw_count(data, source, day) == expected
    events = [e for e in _asset_events(airflow_env, source) if e["day"] == day.isoformat()]
    assert len(events) == 1 and events[0]["rows_loaded"] == expected


def test_airflow_dags_test_loads_the_generated_day(airflow_env, ingest_dag_data):
    """`airflow dags test` itself (a CLI process) on one ingest DAG; the others run through
    dag.test() in one process (``ingest_dag_runs``)."""
    source = "orders"
    data, summary = ingest_dag_data
    day = INGEST_DAYS[source]
    expected = _generated_rows(summary, source, day)
    result = airflow_env.run(
        "dags",
        "test",
        f"growthops_ingest_{source}",
        day.isoformat(),
        extra_env={"GROWTHOPS_DATA_DIR": str(data), "GROWTHOPS_INGEST_SETTLE_SECONDS": "0"},
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0 and "state=success" in log, log[-4000:]
    _assert_loaded_once(airflow_env, data, source, day, expected)


def test_fx_channel_and_crm_dags_end_to_end_in_one_airflow_process(
    airflow_env, ingest_dag_data, ingest_dag_runs
):
    """Raw counts and asset events of the three successful DAG runs of ``ingest_dag_runs``."""
    data, summary = ingest_dag_data
    results, log = ingest_dag_runs["results"], ingest_dag_runs["log"]
    assert [(r["dag_id"], r["ok"]) for r in results[:3]] == [
        (f"growthops_ingest_{s}", True) for s in ONE_PROCESS_SOURCES
    ], log[-4000:]
    for source in ONE_PROCESS_SOURCES:
        day = INGEST_DAYS[source]
        _assert_loaded_once(airflow_env, data, source, day, _generated_rows(summary, source, day))


def test_airflow_dags_test_quarantines_a_bad_file_fails_fast_and_emits_no_asset(
    airflow_env, ingest_dag_data, ingest_dag_runs
):
    data, _ = ingest_dag_data
    day, log = BAD_ORDERS_DAY, ingest_dag_runs["log"]
    assert [(r["dag_id"], r["logical_date"], r["ok"]) for r in ingest_dag_runs["results"][3:]] == [
        ("growthops_ingest_orders", day.isoformat(), False)
    ], log[-4000:]
    assert "state=failed" in log, log[-4000:]
    assert "missing_required_columns" in log and "orders/2025-01-07/orders.csv" in log
    assert (data / "quarantine" / "orders" / day.isoformat() / "orders.csv").exists()
    assert not ingest_dag_runs["bad_file"].exists()
    before, after = ingest_dag_runs["orders_events"]
    assert after == before  # failed task: no asset event
    assert _raw_count(data, "orders", day) == 0
    tries = airflow_env.query(
        "select t.state, t.try_number from task_instance t join dag_run r on r.run_id = t.run_id "
        "and r.dag_id = t.dag_id where t.task_id = 'load_orders' and r.logical_date like '2025-01-07%'"
    )
    assert tries == [("failed", 1)]  # AirflowFailException: no retry
    assert list((data / "runs" / "growthops_ingest_orders").rglob("load_orders.md"))
