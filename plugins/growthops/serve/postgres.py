"""Publication on the PostgreSQL target: swap the audited ``marts_build`` schema with ``marts`` in
one transaction and append ``meta.publish_log`` (see :mod:`growthops.build.postgres`)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from growthops.build.postgres import (
    BATCHED_TABLES,
    BUILD_SCHEMA,
    LOCK_TIMEOUT,
    MARTS_SCHEMA,
    META_SCHEMA,
    PREVIOUS_SCHEMA,
    PUBLISH_LOCK,
    PUBLISH_LOG,
    PUBLISH_LOG_DDL,
    PgWarehouseError,
    connection,
    describe,
    quote,
    schema_exists,
    schema_tables,
    sql_literal,
    table_columns,
)
from growthops.config import Settings
from growthops.logs import get_logger
from growthops.serve.versions import Publication

log = get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class PgPublishResult(Publication):
    serving_path: str  # where BI reads: <database> schema marts


def _source_batches_since(cur, since: datetime | None) -> tuple[list[str], dict[str, Any]]:
    """Raw batches loaded after ``since`` and, per raw table, what PostgreSQL's raw holds."""
    batches: set[str] = set()
    watermarks: dict[str, Any] = {}
    for raw_table in sorted(BATCHED_TABLES):
        schema, table = raw_table.split(".")
        if not table_columns(cur, schema, table):
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
    with connection(settings, autocommit=True) as pg, pg.cursor() as cur:
        if not table_columns(cur, META_SCHEMA, "publish_log"):
            return []
        cur.execute(
            f"select run_id, published_at, source_batches, row_counts, source_watermarks "
            f"from {PUBLISH_LOG} order by published_at, run_id"
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
    with connection(settings) as pg:
        with pg.cursor() as cur:
            cur.execute(f"set local lock_timeout = {sql_literal(LOCK_TIMEOUT)}")
            cur.execute("select pg_advisory_xact_lock(%s)", (PUBLISH_LOCK,))
            tables = schema_tables(cur, BUILD_SCHEMA) if schema_exists(cur, BUILD_SCHEMA) else []
            if not tables:
                raise PgWarehouseError(
                    f"schema {BUILD_SCHEMA} of {describe(settings)} has no tables: nothing to publish"
                )
            counts = {}
            for table in tables:
                cur.execute(f"select count(*) from {BUILD_SCHEMA}.{quote(table)}")
                counts[table] = cur.fetchone()[0]
            cur.execute(f"create schema if not exists {META_SCHEMA}")
            cur.execute(PUBLISH_LOG_DDL)
            cur.execute(f"select run_id, published_at from {PUBLISH_LOG} order by published_at desc limit 1")
            previous = cur.fetchone()
            since = previous[1] if previous else None
            derived, watermarks = _source_batches_since(cur, since)
            batches = sorted(set(source_batches)) if source_batches is not None else derived
            published_at = datetime.now(UTC).replace(tzinfo=None)
            if previous and published_at <= previous[1]:  # clock stepped back: keep the order
                published_at = previous[1] + timedelta(microseconds=1)

            had_marts = schema_exists(cur, MARTS_SCHEMA)
            if had_marts:
                cur.execute(f"alter schema {MARTS_SCHEMA} rename to {PREVIOUS_SCHEMA}")
            cur.execute(f"alter schema {BUILD_SCHEMA} rename to {MARTS_SCHEMA}")
            if had_marts:
                cur.execute(f"alter schema {PREVIOUS_SCHEMA} rename to {BUILD_SCHEMA}")
            else:
                cur.execute(f"create schema {BUILD_SCHEMA}")
            cur.execute(
                f"insert into {PUBLISH_LOG} values (%s, %s, %s, %s, %s)",
                (run_id, published_at, batches, json.dumps(counts, sort_keys=True), json.dumps(watermarks)),
            )
            # verify inside the transaction: BI would read exactly the audited tables and rows
            published = {}
            for table in schema_tables(cur, MARTS_SCHEMA):
                cur.execute(f"select count(*) from {MARTS_SCHEMA}.{quote(table)}")
                published[table] = cur.fetchone()[0]
            if published != counts:
                raise PgWarehouseError(f"after the swap marts holds {published}, the build had {counts}")
        pg.commit()
    seconds = time.monotonic() - started
    where = f"{describe(settings)} schema {MARTS_SCHEMA}"
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
