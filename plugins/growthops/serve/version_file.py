"""Writing one version file and verifying it (steps 1-2 of :mod:`growthops.serve.publish`).

:func:`plan_version` compares the content fingerprints of the build's marts
(:mod:`growthops.serve.fingerprint`) with those stored in the version BI reads now: equal tables
are *carried*. With nothing to carry the new file starts empty (a full publication); otherwise it
starts as an independent file copy of that previous version (a reflink where the filesystem can,
else an in-kernel copy, either much cheaper than writing the tables through SQL), and only the
changed, new and removed marts are replaced in it. A large changed mart with the stored shape is
*patchable*: in the file copy only its changed rows are written (:mod:`growthops.serve.row_delta`;
it is copied whole when too many rows changed).

:func:`write_version` then copies the marts neither carried nor patched from the build DB (with
table and column comments) into the file ATTACHed from the build connection, (re)writes schema ``meta``:
``meta.publish_log`` (the lineage carried forward plus the version's own row), the data-quality
summary (``meta.load_ledger``, ``meta.rejects_summary``) and ``meta.mart_fingerprints``, and
checkpoints it. :func:`verify_version` opens the finished file read-only and checks it holds
exactly what the build DB had: the same tables with the same row counts, and the same content
fingerprint in every mart carried over or patched. Either way the file holds the same tables, rows, columns and
comments as a full publication would.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb

from growthops.logs import get_logger
from growthops.serve import row_delta
from growthops.serve.audit import _mart_relations
from growthops.serve.fingerprint import (
    Fingerprint,
    mart_fingerprints,
    stored_fingerprints,
    write_fingerprints,
)
from growthops.serve.versions import (
    LOG_SCHEMA,
    LOG_TABLE,
    MARTS_SCHEMA,
    PublishError,
    clone_file,
    read_log,
    wal_path,
)
from growthops.sql import literal, quote

log = get_logger(__name__)


class ContentMismatch(PublishError):
    """The written file does not hold what the build DB has (row counts or content fingerprints)."""


@dataclass(frozen=True)
class VersionPlan:
    """How to write a version: from scratch (``base`` None) or from a file copy of ``base``, keeping
    its marts named in ``carried`` and trying a row delta on those in ``patchable``;
    ``fingerprints`` are the build's (what the file must hold). ``patched``: once written, the
    patchable marts a row delta was applied to (the others were copied whole)."""

    fingerprints: dict[str, Fingerprint]
    base: Path | None = None
    carried: frozenset[str] = field(default_factory=frozenset)
    patchable: frozenset[str] = field(default_factory=frozenset)
    patched: frozenset[str] = field(default_factory=frozenset)

    @property
    def copied(self) -> list[str]:
        return sorted(set(self.fingerprints) - self.carried - self.patched)

    @property
    def kept(self) -> frozenset[str]:
        """The marts not written from the build whole: their content is verified by fingerprint."""
        return self.carried | self.patched

    def full(self) -> VersionPlan:
        return VersionPlan(self.fingerprints)


def plan_version(base: Path | None, fingerprints: dict[str, Fingerprint]) -> VersionPlan:
    """Carry the marts whose build fingerprint equals the one stored in ``base`` (the kept version
    BI reads), and mark the large changed ones with its stored shape patchable; a full publication
    when there is no such file, it is unreadable, or nothing is carried or patchable."""
    if base is None or not base.exists():
        return VersionPlan(fingerprints)
    try:
        con = duckdb.connect(str(base), read_only=True)
    except duckdb.Error as exc:
        log.warning("previous version %s is unreadable (%s): copying every mart", base.name, exc)
        return VersionPlan(fingerprints)
    try:
        stored = stored_fingerprints(con, con.execute("select current_database()").fetchone()[0])
    finally:
        con.close()
    carried = frozenset(name for name, fp in fingerprints.items() if stored.get(name) == fp)
    patchable = frozenset(
        name
        for name, fp in fingerprints.items()
        if name not in carried
        and name in stored
        and stored[name].shape_md5 == fp.shape_md5
        and fp.row_count >= row_delta.MIN_ROWS
    )
    if not carried and not patchable:
        return VersionPlan(fingerprints)
    return VersionPlan(fingerprints, base, carried, patchable)


PUBLISH_LOG_DDL = f"""
create table if not exists {{db}}.{LOG_TABLE} (
    run_id varchar not null,
    published_at timestamp not null,
    source_batches varchar[] not null,
    row_counts json not null,
    source_watermarks json,
    version_file varchar not null
)
"""
PUBLISH_LOG_COMMENTS = {
    None: "One row per publication in the lineage of this serving version; the newest row is this version.",
    "run_id": "Pipeline run (Airflow run id or CLI run) that built and published the version",
    "published_at": "UTC time the version was written",
    "source_batches": "Load batches new in this version (given by the run; default: raw batches loaded since the previous publication)",
    "row_counts": "Row count of every mart table in this version, as a JSON object",
    "source_watermarks": "Per raw table: distinct batches, newest batch day and load time the version was built from",
    "version_file": "Version file name under warehouse/versions/",
}


def write_version(
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    building: Path,
    relations: list[tuple[str, str | None]],
    lineage: list[dict[str, Any]],
    own_row: dict[str, Any],
    plan: VersionPlan,
) -> VersionPlan:
    """Write the version file ``building`` by ``plan``; returns the plan with the marts patched."""
    alias = "growthops_new_version"
    patched = set()
    if plan.base is not None:
        clone_file(plan.base, building)
        building.chmod(0o644)
    con.execute(f"attach {literal(str(building))} as {alias} (read_write)")
    try:
        if plan.base is None:
            con.execute(f"create schema {alias}.{MARTS_SCHEMA}")
        else:
            _drop_all_but(con, alias, plan.carried | plan.patchable)
        con.execute(f"create schema {alias}.{LOG_SCHEMA}")
        for name, comment in relations:
            if name in plan.carried:
                continue
            src = f"{quote(catalog)}.{MARTS_SCHEMA}.{quote(name)}"
            dst = f"{alias}.{MARTS_SCHEMA}.{quote(name)}"
            if name in plan.patchable:
                delta = row_delta.apply_row_delta(
                    con, catalog, alias, name, plan.fingerprints[name].row_count
                )
                log.info(
                    "%s: %s (+%d -%d rows, %d dead)",
                    name,
                    "row delta applied" if delta.applied else "too many rows changed, copying it whole",
                    delta.added,
                    delta.removed,
                    delta.dead,
                )
                if delta.applied:
                    patched.add(name)
                    continue
                con.execute(f"drop table if exists {dst}")
            con.execute(f"create table {dst} as select * from {src}")
            if comment:
                con.execute(f"comment on table {dst} is {literal(comment)}")
            for column, col_comment in con.execute(
                "select column_name, comment from duckdb_columns() "
                "where database_name = ? and schema_name = ? and table_name = ? and comment is not null",
                [catalog, MARTS_SCHEMA, name],
            ).fetchall():
                con.execute(f"comment on column {dst}.{quote(column)} is {literal(col_comment)}")
        con.execute(PUBLISH_LOG_DDL.format(db=alias))
        for column, text in PUBLISH_LOG_COMMENTS.items():
            target = (
                f"table {alias}.{LOG_TABLE}" if column is None else f"column {alias}.{LOG_TABLE}.{column}"
            )
            con.execute(f"comment on {target} is {literal(text)}")
        con.executemany(
            f"insert into {alias}.{LOG_TABLE} values (?, ?, ?, ?, ?, ?)",
            [
                [
                    r["run_id"],
                    r["published_at"],
                    r["source_batches"],
                    json.dumps(r["row_counts"], sort_keys=True),
                    json.dumps(r.get("source_watermarks") or {}, sort_keys=True),
                    r["version_file"],
                ]
                for r in [*lineage, own_row]
            ],
        )
        _write_quality_summary(con, catalog, alias)
        write_fingerprints(con, alias, plan.fingerprints)
        con.execute(f"checkpoint {alias}")
    finally:
        con.execute(f"detach {alias}")
    return replace(plan, patched=frozenset(patched))


def _drop_all_but(con: duckdb.DuckDBPyConnection, alias: str, kept: frozenset[str]) -> None:
    """In the copy of the previous version: drop every mart not kept, and schema meta."""
    for (name,) in con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = ?",
        [alias, MARTS_SCHEMA],
    ).fetchall():
        if name not in kept:
            con.execute(f"drop table {alias}.{MARTS_SCHEMA}.{quote(name)}")
    con.execute(f"drop schema if exists {alias}.{LOG_SCHEMA} cascade")


# What the raw gate did, for readers of the serving file only (the growth report's data-quality
# page): file-level ledger rows and reject counts per rule, never the rejected records themselves.
QUALITY_TABLES = {
    "load_ledger": (
        "One row per export file version in the build DB's raw.load_ledger when this version was "
        "published: raw gate outcome (status), rows in file / loaded / rejected, quarantine path.",
        """select batch_id, source, day, export_key, file_name, status, rows_in_file, rows_loaded,
                  rows_rejected, message, quarantine_path, started_at, finished_at, superseded_by
           from {src}.raw.load_ledger""",
    ),
    "rejects_summary": (
        "One row per batch x rule x column of the build DB's raw.rejects when this version was "
        "published: how many rows the raw gate rejected, and why (no row contents).",
        """select batch_id, source, day, rule, column_name, count(*) as rejected_rows,
                  min(line) as first_line, max(rejected_at) as rejected_at
           from {src}.raw.rejects group by all""",
    ),
}


def _write_quality_summary(con: duckdb.DuckDBPyConnection, catalog: str, alias: str) -> None:
    """``meta.load_ledger`` and ``meta.rejects_summary`` (see QUALITY_TABLES), when the build has them."""
    present = {
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where database_name = ? and schema_name = 'raw'",
            [catalog],
        ).fetchall()
    }
    for name, (comment, select) in QUALITY_TABLES.items():
        source_table = "rejects" if name == "rejects_summary" else name
        if source_table not in present:
            continue
        dst = f"{alias}.{LOG_SCHEMA}.{name}"
        con.execute(f"create table {dst} as {select.format(src=quote(catalog))}")
        con.execute(f"comment on table {dst} is {literal(comment)}")


def verify_version(
    path: Path, expected: dict[str, Fingerprint], run_id: str, carried: Collection[str] = ()
) -> None:
    """Open the finished file read-only and check it holds exactly what the build DB had: the same
    tables, each with the build's row count; the marts ``carried`` over from the previous version
    or patched by a row delta (not written from the build whole by this publication) also with the
    build's content fingerprint."""
    if wal_path(path).exists():
        raise PublishError(f"{path.name}: a WAL remains after CHECKPOINT/DETACH; not publishing")
    con = duckdb.connect(str(path), read_only=True)
    try:
        catalog = con.execute("select current_database()").fetchone()[0]
        found = {name for name, _ in _mart_relations(con, catalog)}
        if found != set(expected):
            raise ContentMismatch(
                f"{path.name}: tables {sorted(found)} differ from the build marts {sorted(expected)}"
            )
        for name, want in expected.items():
            got = con.execute(f"select count(*) from {MARTS_SCHEMA}.{quote(name)}").fetchone()[0]
            if got != want.row_count:
                raise ContentMismatch(
                    f"{path.name}: {MARTS_SCHEMA}.{name} has {got} rows, build has {want.row_count}"
                )
        for name, got_fp in mart_fingerprints(con, catalog, only=carried).items():
            if got_fp != expected[name]:
                raise ContentMismatch(
                    f"{path.name}: {MARTS_SCHEMA}.{name}, kept from the previous version, differs "
                    "from the build (content, columns or comments)"
                )
        rows = read_log(con, catalog)
        if not rows or rows[-1]["run_id"] != run_id:
            raise PublishError(f"{path.name}: publish log does not end with run {run_id}")
    finally:
        con.close()
