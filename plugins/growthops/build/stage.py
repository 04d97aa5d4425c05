"""The build stage: mirror raw to the warehouse target (PostgreSQL only), then one in-process
``dbt build`` (seeds, models, snapshot, data and unit tests) into the private build warehouse."""

from __future__ import annotations

from typing import Any

from growthops.config import Settings
from growthops.failures import StageFailure, stage_policy
from growthops.logs import get_logger

log = get_logger(__name__)


def on_postgres(settings: Settings) -> bool:
    """dbt builds in PostgreSQL (``[warehouse] target = "postgres"``), not in the DuckDB file."""
    return settings.warehouse_target == "postgres"


def sync_warehouse(settings: Settings) -> Any:
    """Target ``postgres``: mirror the DuckDB raw tables into PostgreSQL before dbt runs (one
    transaction; only new and replaced batches are copied). Target ``duckdb``: nothing to do."""
    if not on_postgres(settings):
        return None
    from growthops.build.postgres import PgWarehouseError, describe
    from growthops.build.raw_sync import sync_raw

    where = describe(settings)
    with stage_policy(
        settings,
        kind="raw sync failed",
        failed=f"copying the raw tables to {where} failed, nothing was built",
        transient=f"the raw sync to {where} failed on a transient error",
        data_errors=(PgWarehouseError,),
    ):
        return sync_raw(settings)


def release_dbt_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an in-process run.

    dbt-duckdb caches its environment (and with it the open database) on the connection manager
    class; until it is closed no other connection of this process can open the build DB with a
    different configuration (read-only), and no other process can open it at all.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt-duckdb not installed (another warehouse target)
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if env is not None:
            try:
                env.close()
            except Exception as exc:  # closing is best effort; the next open reports real trouble
                log.debug("closing the dbt-duckdb environment failed: %s", exc)


def build_marts(settings: Settings, *, full_refresh: bool = False) -> Any:
    """``dbt build`` (models, snapshot, data tests; unit tests once per code version) in one
    in-process run (on PostgreSQL after :func:`sync_warehouse`)."""
    from growthops.build.dbt import DbtFailure, invoke, record_unit_tests, unit_test_plan
    from growthops.reports import report_dbt_failure, report_if_final_try
    from growthops.warehouse import is_lock_error

    sync_warehouse(settings)
    version, skip_args = unit_test_plan(settings)
    cmd = ["build", *skip_args] + (["--full-refresh"] if full_refresh else [])
    try:
        result = invoke(settings, cmd)
        record_unit_tests(settings, version, ran=not skip_args, success=True)
        return result
    except DbtFailure as exc:
        record_unit_tests(settings, version, ran=not skip_args, success=False)
        if exc.result.exception and is_lock_error(Exception(exc.result.exception)):
            report_if_final_try(
                exc,
                summary=f"dbt build could not lock the warehouse: {exc.result.exception}",
                settings=settings,
            )
            raise
        path = report_dbt_failure(exc, settings)
        raise StageFailure(str(exc), path) from None
    finally:
        release_dbt_duckdb()
