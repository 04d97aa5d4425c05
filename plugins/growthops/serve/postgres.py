"""Publication on the PostgreSQL target: swap the audited ``marts_build`` schema with ``marts`` in
one transaction and append ``meta.publish_log`` (see :mod:`growthops.build.postgres`)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from growthops.build import postgres as pg
from growthops.config import Settings
from growthops.logs import get_logger
from growthops.serve.versions import Publication
from growthops.sql import literal, quote

log = get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class PgPublishResult(Publication):
    serving_path: str  # where BI reads: <database> schema marts


def _source_batches_since(cur, since: datetime | None) -> tuple[list[str], dict[str, Any]]:
    """Raw batches loaded after ``since`` and, per raw table, what PostgreSQL's raw holds."""
    batches: set[str] = set()
    watermarks: dict[str, Any] = {}
    for raw_table in sorted(pg.BATCHED_TABLES):
        schema, table = raw_table.split(".")
        if not pg.table_columns(cur, schema, table):
            continue
        cur.execute(f"select count(distinct _batch_id), max(_batch_day), max(_loaded_at) from {raw_table}")
        n, max_day, max_loaded = cur.fetchone()
        watermarks[raw_table] = {
            "batches": n,
            "max_batch_day": str(max_day) if max_day else None,
            "max_loaded_at": max_loaded.isoformat() if max_loaded else None,
        }
        if since is None:
            cur.execute(f"select distinct _batch_id from {raw_table}")
        else:
            cur.execute(f"select distinct _batch_id from {raw_table} where _loaded_at > %s", (since,))
        batches.update(r[0] for r in cur.fetchall() if r[0] is not None)
    return sorted(batches), watermarks


def read_publish_log(settings: Settings) -> list[dict[str, Any]]:
    """Rows of ``meta.publish_log``, oldest first (empty when nothing was published)."""
    with pg.connection(settings, autocommit=True) as conn, conn.cursor() as cur:
        if not pg.table_columns(cur, pg.META_SCHEMA, "publish_log"):
            return []
        cur.execute(
            f"select run_id, published_at, source_batches, row_counts, source_watermarks "
            f"from {pg.PUBLISH_LOG} order by published_at, run_id"
        )
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def publish(settings: Settings, run_id: str, source_batches: list[str] | None = None) -> PgPublishResult:
    """Make the audited ``marts_build`` the ``marts`` BI reads, in one transaction.

    ``marts`` -> ``marts_previous`` -> ``marts_build``, ``marts_build`` -> ``marts``, plus the
    publish-log row: all or nothing. Raises PgWarehouseError (nothing published) when the build
    schema is missing or empty.
    """
    started = time.monotonic()
    with pg.connection(settings) as conn:
        with conn.cursor() as cur:
            cur.execute(f"set local lock_timeout = {literal(pg.LOCK_TIMEOUT)}")
            cur.execute("select pg_advisory_xact_lock(%s)", (pg.PUBLISH_LOCK,))
            tables = pg.schema_tables(cur, pg.BUILD_SCHEMA) if pg.schema_exists(cur, pg.BUILD_SCHEMA) else []
            if not tables:
                raise pg.PgWarehouseError(
                    f"schema {pg.BUILD_SCHEMA} of {pg.describe(settings)} has no tables: nothing to publish"
                )
            counts = {}
            for table in tables:
                cur.execute(f"select count(*) from {pg.BUILD_SCHEMA}.{quote(table)}")
                counts[table] = cur.fetchone()[0]
            cur.execute(f"create schema if not exists {pg.META_SCHEMA}")
            cur.execute(pg.PUBLISH_LOG_DDL)
            cur.execute(
                f"select run_id, published_at from {pg.PUBLISH_LOG} order by published_at desc limit 1"
            )
            previous = cur.fetchone()
            since = previous[1] if previous else None
            derived, watermarks = _source_batches_since(cur, since)
            batches = sorted(set(source_batches)) if source_batches is not None else derived
            published_at = datetime.now(UTC).replace(tzinfo=None)
            if previous and published_at <= previous[1]:  # clock stepped back: keep the order
                published_at = previous[1] + timedelta(microseconds=1)

            had_marts = pg.schema_exists(cur, pg.MARTS_SCHEMA)
            if had_marts:
                cur.execute(f"alter schema {pg.MARTS_SCHEMA} rename to {pg.PREVIOUS_SCHEMA}")
            cur.execute(f"alter schema {pg.BUILD_SCHEMA} rename to {pg.MARTS_SCHEMA}")
            if had_marts:
                cur.execute(f"alter schema {pg.PREVIOUS_SCHEMA} rename to {pg.BUILD_SCHEMA}")
            else:
                cur.execute(f"create schema {pg.BUILD_SCHEMA}")
            cur.execute(
                f"insert into {pg.PUBLISH_LOG} values (%s, %s, %s, %s, %s)",
                (run_id, published_at, batches, json.dumps(counts, sort_keys=True), json.dumps(watermarks)),
            )
            # verify inside the transaction: BI would read exactly the audited tables and rows
            published = {}
            for table in pg.schema_tables(cur, pg.MARTS_SCHEMA):
                cur.execute(f"select count(*) from {pg.MARTS_SCHEMA}.{quote(table)}")
                published[table] = cur.fetchone()[0]
            if published != counts:
                raise pg.PgWarehouseError(f"after the swap marts holds {published}, the build had {counts}")
        conn.commit()
    seconds = time.monotonic() - started
    where = f"{pg.describe(settings)} schema {pg.MARTS_SCHEMA}"
    log.info("published run %s to %s (%s) in %.2fs", run_id, where, counts, seconds)
    return PgPublishResult(
        run_id=run_id,
        published_at=published_at,
        serving_path=where,
        row_counts=counts,
        source_batches=batches,
        previous_run_id=previous[0] if previous else None,
        seconds=seconds,
    )
