"""Shared fixtures of the dbt tests: one generated landing and one warehouse built per session.

The shared warehouse is loaded through the ingestion bulk path (``growthops.ingest.loader``,
raw gate included) and built the way production builds it, in two rounds: the landing days up
to ``SPLIT_DAY`` first (``dbt build``), then the later days (late status and refund changes,
restated channel days, contacts exported after their orders) plus hand-made late updates (see
``dbt_late_updates.py``: a refunded first order, a contact exported late, a re-delivered fx
file), then ``dbt build`` again - so fct_orders is built incrementally and the lifecycle
snapshot runs twice. The oracle, incremental and docs tests read it; ``dbt_work_dir`` (the
build's target folder, its partial parse valid for this warehouse and vars) serves later dbt
commands on it without a second full parse.

A second, longer landing (``recall_warehouse``: 18 months, 17 recall campaigns, with and without
holdout) is built for the recall marts and the customer marts that show the last recall message;
the planted-lift and recall-oracle tests read it.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from dbt_helpers import explain, run_dbt
from dbt_late_updates import write_late_updates
from dbt_order_chain import compiled_incremental_sql

START = date(2025, 1, 1)
END = date(2025, 4, 30)
SPLIT_DAY = date(2025, 3, 20)
SCALE = 0.01
SEED = 11
# costs: acquisition spend of the funnel and retention costs; messages: the recall marts (SPEC §11)
SOURCES = ("fx", "channel", "crm", "orders", "costs", "messages")
# Non-default reporting currency and timezone: the cross rate and the timezone shift are exercised
# at scale (UTC+9 keeps every order day on or after the first fx day). Lookback 0: both loads
# happen within seconds, so any lookback would rebuild everything; with 0 the incremental run
# relies on the watermark alone, the strictest case for "incremental = full refresh".
ORACLE_VARS = {
    "reporting_currency": "EUR",
    "reporting_timezone": "Asia/Tokyo",
    "reactivation_days": 30,
    "fct_orders_lookback_days": 0,
}


def ingest(settings, first_day: date, last_day: date, sources=SOURCES) -> None:
    from growthops.ingest.loader import load_range

    for source in sources:
        result = load_range(settings, source, first_day, last_day)
        assert result.ok and result.rows_rejected == 0, result.summary()


def generated_settings(tmp_path_factory, name: str, start: date, end: date, scale: float, seed: int):
    """Settings of a fresh data root ``<name>_data`` (no settle time: the files written by the
    tests are complete) whose landing holds the generated exports of ``start`` .. ``end``."""
    from growthops.config import load_settings
    from growthops.generate import generate

    data_dir = tmp_path_factory.mktemp(f"{name}_data")
    settings = load_settings(
        env={"GROWTHOPS_DATA_DIR": str(data_dir), "GROWTHOPS_INGEST_SETTLE_SECONDS": "0"}
    )
    generate(Path(settings.landing_dir), start, end, scale, seed)
    return settings


@pytest.fixture(scope="session")
def dbt_work_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("dbt_work")


@pytest.fixture(scope="session")
def growthops_settings(tmp_path_factory):
    from growthops.config import load_settings

    data_dir = tmp_path_factory.mktemp("data")
    # files written by the tests are complete: no settle time
    return load_settings(env={"GROWTHOPS_DATA_DIR": str(data_dir), "GROWTHOPS_INGEST_SETTLE_SECONDS": "0"})


@pytest.fixture(scope="session")
def generated_landing(growthops_settings) -> Path:
    from growthops.generate import generate

    landing = Path(growthops_settings.landing_dir)
    generate(landing, START, END, SCALE, SEED)
    return landing


@pytest.fixture(scope="session")
def built_warehouse(growthops_settings, generated_landing, dbt_work_dir) -> dict:
    settings = growthops_settings
    warehouse = settings.warehouse_path
    ingest(settings, START, SPLIT_DAY)
    first = run_dbt(warehouse, ["build"], work_dir=dbt_work_dir, vars=ORACLE_VARS)
    assert first.success, explain(first)

    con = _connect_read_only(warehouse)
    first_watermark = con.execute("select max(inputs_loaded_at) from marts.fct_orders").fetchone()[0]
    con.close()

    late = write_late_updates(generated_landing, END)
    ingest(settings, SPLIT_DAY + timedelta(days=1), late.day)
    ingest(settings, late.fx_day, late.fx_day, sources=("fx",))  # the corrected file replaces the batch
    # unit tests do not depend on the data: they ran in the first build
    second = run_dbt(
        warehouse, ["build", "--exclude-resource-type", "unit_test"], work_dir=dbt_work_dir, vars=ORACLE_VARS
    )
    assert second.success, explain(second)
    return {
        "path": warehouse,
        "landing": generated_landing,
        "late": late,
        "runs": (first, second),
        "first_watermark": first_watermark,
        # what the second build compiled for every incremental model (the work dir is reused by
        # later runs)
        "second_incremental_sql": compiled_incremental_sql(dbt_work_dir),
    }


@pytest.fixture(scope="session")
def built_oracle(built_warehouse):
    """The pandas oracle (``dbt_oracle.compute``) of ``built_warehouse``'s landing and vars, computed
    once for the marts and recall oracle tests, which only read it."""
    from dbt_oracle import compute

    names = ("reporting_currency", "reporting_timezone", "reactivation_days")
    return compute(built_warehouse["landing"], *(ORACLE_VARS[n] for n in names))


def _connect_read_only(path: Path):
    import duckdb

    return duckdb.connect(str(path), read_only=True)


# 18 months at scale 0.03: 17 recall campaigns (with and without holdout, crossovers, one still in
# its window), 6 of them with >= 100 contacts in each arm
RECALL_START = date(2024, 1, 1)
RECALL_END = date(2025, 6, 30)
RECALL_SCALE = 0.03
RECALL_SEED = 3


@pytest.fixture(scope="session")
def recall_warehouse(tmp_path_factory) -> dict:
    """The recall marts (and dim_customers, mart_reactivation_candidates) of an 18-month landing,
    in the generator's own terms: USD, UTC, its lapse and window days."""
    from growthops.config import load_settings
    from growthops.generate import generate
    from growthops.generator import params

    data_dir = tmp_path_factory.mktemp("recall_data")
    settings = load_settings(
        env={"GROWTHOPS_DATA_DIR": str(data_dir), "GROWTHOPS_INGEST_SETTLE_SECONDS": "0"}
    )
    landing = Path(settings.landing_dir)
    summary = generate(landing, RECALL_START, RECALL_END, RECALL_SCALE, RECALL_SEED)
    ingest(settings, RECALL_START, RECALL_END)
    recall_vars = {
        "reporting_currency": "USD",
        "reporting_timezone": "UTC",
        "reactivation_days": params.RECALL_LAPSED_DAYS,
        "recall_window_days": params.RECALL_WINDOW_DAYS,
        "recall_min_arm_size": 100,
    }
    run = run_dbt(
        settings.warehouse_path,
        # cautious: only the tests of the selected nodes (not those that also read other marts)
        [
            "build",
            "--select",
            "+mart_recall_campaign_summary",
            "+mart_recall_campaigns",
            "+dim_customers",
            "+mart_reactivation_candidates",
            "--indirect-selection",
            "cautious",
        ],
        work_dir=tmp_path_factory.mktemp("recall_dbt"),
        vars=recall_vars,
    )
    assert run.success, explain(run)
    return {"path": settings.warehouse_path, "landing": landing, "summary": summary, "vars": recall_vars}
