"""Shared fixtures of the dbt tests: one generated landing and one warehouse built per session.

The shared warehouse is built the way production builds it, in two loads: the landing days up to
``SPLIT_DAY`` first (``dbt build``), then the later days (late status and refund changes,
restated channel days, contacts exported after their orders) plus a hand-made batch of late
updates (see ``late_updates.py``), then ``dbt build`` again - so fct_orders is built
incrementally and the lifecycle snapshot runs twice. The oracle, incremental and docs tests read it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from dbt_helpers import explain, run_dbt
from dbt_late_updates import write_late_updates
from dbt_raw_loading import load_landing, next_morning

START = date(2025, 1, 1)
END = date(2025, 4, 30)
SPLIT_DAY = date(2025, 3, 20)
SCALE = 0.01
SEED = 11
# Non-default reporting currency and timezone: the cross rate and the timezone shift are exercised
# at scale (UTC+9 keeps every order day on or after the first fx day).
ORACLE_VARS = {"reporting_currency": "EUR", "reporting_timezone": "Asia/Tokyo", "reactivation_days": 30}


@pytest.fixture(scope="session")
def dbt_work_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("dbt_work")


@pytest.fixture(scope="session")
def generated_landing(tmp_path_factory) -> Path:
    from growthops.generate import generate

    landing = tmp_path_factory.mktemp("landing")
    generate(landing, START, END, SCALE, SEED)
    return landing


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory, generated_landing, dbt_work_dir) -> dict:
    warehouse = tmp_path_factory.mktemp("warehouse") / "growthops.duckdb"
    load_landing(warehouse, generated_landing, last_day=SPLIT_DAY)
    first = run_dbt(warehouse, ["build"], work_dir=dbt_work_dir, vars=ORACLE_VARS)
    assert first.success, explain(first)

    late = write_late_updates(warehouse, generated_landing, END)
    load_landing(warehouse, generated_landing, first_day=SPLIT_DAY + date.resolution)
    for batch_day in late.replaced_days:
        load_landing(
            warehouse,
            generated_landing,
            first_day=batch_day,
            last_day=batch_day,
            loaded_at=next_morning(late.day),
            sources=("fx",),
        )
    # unit tests do not depend on the data: they ran in the first build
    second = run_dbt(
        warehouse, ["build", "--exclude-resource-type", "unit_test"], work_dir=dbt_work_dir, vars=ORACLE_VARS
    )
    assert second.success, explain(second)
    fct_orders_sql = (
        dbt_work_dir / "target" / "compiled" / "growthops" / "models" / "marts" / "core" / "fct_orders.sql"
    )
    return {
        "path": warehouse,
        "landing": generated_landing,
        "late": late,
        "runs": (first, second),
        "first_load_until": next_morning(SPLIT_DAY),
        "second_fct_orders_sql": fct_orders_sql.read_text(encoding="utf-8"),
    }
