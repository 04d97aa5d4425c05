"""The serve stage: publish the audited marts where BI reads them, in one atomic step."""

from __future__ import annotations

from typing import Any

from growthops.build.stage import on_postgres
from growthops.config import Settings
from growthops.failures import stage_policy
from growthops.logs import get_logger

log = get_logger(__name__)


def publish_marts(settings: Settings, run_id: str) -> Any:
    """Publish schema ``marts`` of the build DB to the serving file (write-audit-publish); on
    PostgreSQL swap the audited ``marts_build`` schema with ``marts`` in one transaction."""
    from growthops.build.postgres import PgWarehouseError
    from growthops.serve.postgres import publish as publish_postgres
    from growthops.serve.publish import PublishError, publish

    with stage_policy(
        settings,
        kind="publication failed",
        failed=f"publication of run {run_id} failed, nothing was published",
        transient=f"publication of run {run_id} failed on a lock or I/O error",
        data_errors=(PublishError, PgWarehouseError),
    ):
        result = publish_postgres(settings, run_id) if on_postgres(settings) else publish(settings, run_id)
    log.info(
        "published run %s to %s (%s)",
        result.run_id,
        result.serving_path,
        ", ".join(f"{k}={v}" for k, v in sorted(result.row_counts.items())),
    )
    return result
