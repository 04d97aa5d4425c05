"""Fixtures of the on-call tests: one published pipeline per session, cloned per test.

``pipeline`` generates three days of sample exports at a tiny scale, loads them through the
backfill path (ingestion, dbt build, mart gate) and publishes run ``oncall_base`` — once per
session (the dbt build is the slow part). ``data`` copies that data root into the test's tmp
folder and points ``GROWTHOPS_DATA_DIR`` at the copy, so every test can break it its own way
while "BI still reads run oncall_base" holds. Tests that run dbt use ``live``, the root the base
was built in (dbt's partial parse is only valid for that warehouse path).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from world import deliver, point_at, publish_world

from growthops.config import Settings, load_settings

START = date(2025, 1, 1)
END = date(2025, 1, 3)
NEXT_DAY = date(2025, 1, 4)  # the day the failure tests deliver (not in the base)
SCALE = 0.02
SEED = 5
BASE_RUN = "oncall_base"

ORDERS_HEADER = (
    "order_id,contact_id,created_at,updated_at,status,currency,gross_amount,discount_amount,refund_amount"
)


def order_line(i: int, *, gross: str = "100.00", status: str = "paid", day: date = NEXT_DAY) -> str:
    ts = f"{day.isoformat()}T10:{i % 60:02d}:00+00:00"
    return f"OC{i:04d},C{i:04d},{ts},{ts},{status},USD,{gross},0.00,0.00"


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory) -> dict[str, Path]:
    """``live``: the data root the base was built in; ``snapshot``: a pristine copy of it.

    dbt's partial parse is keyed on the warehouse path, so tests that run dbt work in ``live``
    (no second full project parse); every other test gets its own copy of ``snapshot``.
    """
    live = tmp_path_factory.mktemp("oncall_live") / "data"
    publish_world(live, BASE_RUN, start=START, end=END, scale=SCALE, seed=SEED)
    snapshot = tmp_path_factory.mktemp("oncall_snapshot") / "data"
    shutil.copytree(live, snapshot)
    return {"live": live, "snapshot": snapshot}


@pytest.fixture
def data(pipeline, tmp_path, monkeypatch) -> Settings:
    """A private copy of the published base; the environment points at it."""
    root = tmp_path / "data"
    shutil.copytree(pipeline["snapshot"], root)
    point_at(monkeypatch, root)
    return load_settings()


@pytest.fixture
def live(pipeline, monkeypatch) -> Settings:
    """The shared data root where dbt runs (tests using it restore what they break)."""
    point_at(monkeypatch, pipeline["live"])
    return load_settings()


def put(settings: Settings, source: str, name: str, text: str, day: date = NEXT_DAY) -> Path:
    """Deliver an export file into landing (aged, so it counts as finished)."""
    return deliver(settings, source, day, name, text)


@contextmanager
def airflow_task(
    dag_id: str,
    task_id: str,
    run_id: str = "scheduled__2025-01-04T00:00:00+00:00",
    *,
    try_number: int = 1,
    retries: int = 0,
    logical_date: datetime | None = datetime(2025, 1, 4, tzinfo=UTC),
) -> Iterator[dict]:
    """Run the body as if inside that Airflow task (Airflow's own current-context stack)."""
    from airflow.sdk.execution_time.context import set_current_context

    ti = SimpleNamespace(
        dag_id=dag_id, task_id=task_id, run_id=run_id, try_number=try_number, max_tries=retries, map_index=-1
    )
    context = {"ti": ti, "task_instance": ti, "run_id": run_id, "logical_date": logical_date}
    with set_current_context(context):
        yield context


def report_of(settings: Settings, dag_id: str, run_id: str, task_id: str) -> tuple[str, dict]:
    from growthops.reports import report_path

    path = report_path(settings, dag_id, run_id, task_id)
    assert path.exists(), f"no report at {path}; runs: {sorted(p.name for p in settings.runs_dir.rglob('*'))}"
    return path.read_text(encoding="utf-8"), json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))


def assert_bi_still_reads(md: str, js: dict, run_id: str = BASE_RUN) -> None:
    """The report names the served version (run id and time from the publish log) and rollback."""
    assert js["serving_version"]["run_id"] == run_id
    assert f"BI still reads marts version run_id `{run_id}`" in md
    assert "unchanged by this failure" in md
    assert js["serving_version"]["published_at"] in md
    assert f"growthops rollback   # only if the marts BI reads now (run {run_id}) are wrong" in md
