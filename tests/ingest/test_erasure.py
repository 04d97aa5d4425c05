"""Erasure everywhere (SPEC §2 crm ``is_deleted``): after an erasure row loads, no clear or hashed
email of the contact exists in any DuckDB file under the data root — raw (every version of the
contact, the erasure row itself, rejects), the build's dbt tables, every kept serving version and
the serving file — and it stays so after a rollback and after a replay of an older export.

dbt is stood in for by ``build_marts``: marts derived from raw the way the dbt models do it
(sha256 of the lower-trimmed email, nothing for an erased contact), so the test runs in seconds.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import date
from pathlib import Path

import duckdb

from growthops.erasure import AUDIT_TABLE, erased_contacts
from growthops.ingest.loader import ingest_day
from growthops.serve import publish as pub

DAY1, DAY2, DAY3 = date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 4)
HEADER = "contact_id,email,created_at,updated_at,lifecycle_stage,utm_source,utm_medium,utm_campaign,country,is_deleted"
ERASED, KEPT = "C1", "C2"
EMAIL = "Erase.Me@Example.com"
EMAIL_HASH = hashlib.sha256(EMAIL.strip().lower().encode()).hexdigest()


def _crm(day: date, rows: list[tuple[str, str, bool]]) -> str:
    lines = [HEADER]
    for cid, email, deleted in rows:
        ts = f"{day.isoformat()}T09:00:00+00:00"
        lines.append(
            f"{cid},{email},2025-01-01T08:00:00+00:00,{ts},lead,google,cpc,brand,US,{str(deleted).lower()}"
        )
    return "\n".join(lines) + "\n"


def _put(settings, day: date, text: str, name: str = "contacts.csv") -> Path:
    path = settings.landing_dir / "crm" / day.isoformat() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    old = time.time() - 3600
    os.utime(path, (old, old))
    return path


def build_marts(settings) -> None:
    """What dbt does with contacts, in two tables: an intermediate one and a mart."""
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute("create schema if not exists intermediate")
        con.execute("create schema if not exists marts")
        latest = """
            select trim(contact_id) as contact_id,
                   case when coalesce(is_deleted, false) or nullif(trim(email), '') is null then null
                        else sha256(lower(trim(email))) end as email_sha256,
                   coalesce(is_deleted, false) as is_erased
            from raw.crm_contacts
            qualify row_number() over (partition by trim(contact_id) order by updated_at desc) = 1
        """
        con.execute(f"create or replace table intermediate.int_contacts as {latest}")
        con.execute("create or replace table marts.dim_customers as select * from intermediate.int_contacts")
        con.execute("comment on table marts.dim_customers is 'One row per contact'")
    finally:
        con.close()


def leaks(root: Path) -> list[str]:
    """Every place under ``root`` where the clear or hashed email is found (SQL and, for files BI
    may read, bytes)."""
    found = []
    for path in sorted(root.rglob("*.duckdb")):
        con = duckdb.connect(":memory:")
        try:
            con.execute(f"attach '{path}' as f (read_only)")
            columns = con.execute(
                "select schema_name, table_name, column_name from duckdb_columns() "
                "where database_name = 'f' and data_type in ('VARCHAR', 'JSON')"
            ).fetchall()
            for schema, table, column in columns:
                n = con.execute(
                    f'select count(*) from f."{schema}"."{table}" where contains(lower("{column}"::varchar), ?)'
                    f' or contains(lower("{column}"::varchar), ?)',
                    [EMAIL.lower(), EMAIL_HASH],
                ).fetchone()[0]
                if n:
                    found.append(f"{path.relative_to(root)}: {schema}.{table}.{column} x{n}")
        finally:
            con.close()
        if path.parent.name == "versions" or path.name == "serving.duckdb":
            data = path.read_bytes()
            if EMAIL.lower().encode() in data.lower() or EMAIL_HASH.encode() in data:
                found.append(f"{path.relative_to(root)}: bytes")
    return found


def _dim(path: Path) -> dict[str, tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("select contact_id, email_sha256, is_erased from marts.dim_customers").fetchall()
    finally:
        con.close()
    return {r[0]: r[1:] for r in rows}


def _load_build_publish(settings, day: date, run_id: str) -> None:
    ingest_day(settings, "crm", day)
    build_marts(settings)
    pub.publish(settings, run_id)


def test_erasure_reaches_raw_build_and_every_kept_version_and_survives_rollback_and_replay(settings):
    _put(settings, DAY1, _crm(DAY1, [(ERASED, EMAIL, False), (KEPT, "keep@example.com", False)]))
    _load_build_publish(settings, DAY1, "run-1")
    _put(settings, DAY2, _crm(DAY2, [(ERASED, f" {EMAIL.upper()} ", False)]))
    _load_build_publish(settings, DAY2, "run-2")
    assert leaks(settings.data_dir)  # the premise: the hash is in both versions, the email in raw

    # the erasure row arrives (with the email in clear, as CRMs send it); it is only loaded
    _put(settings, DAY3, _crm(DAY3, [(ERASED, EMAIL, True)]))
    ingest_day(settings, "crm", DAY3)
    assert leaks(settings.data_dir) == []
    kept_hash = hashlib.sha256(b"keep@example.com").hexdigest()
    assert _dim(settings.serving_path)[KEPT][0] == kept_hash  # other contacts keep their hash
    assert _dim(settings.serving_path)[ERASED][0] is None  # the contact stays, anonymously
    assert list(erased_contacts(settings)) == [ERASED]
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        raw = con.execute(
            "select count(*), count(email) from raw.crm_contacts where contact_id = ?", [ERASED]
        )
        assert raw.fetchone() == (3, 0)  # every version of the contact, the erasure row included
        audit = con.execute(f"select distinct contact_id, location from {AUDIT_TABLE} order by 2").fetchall()
    finally:
        con.close()
    places = {loc for _, loc in audit}
    assert {c for c, _ in audit} == {ERASED}
    assert "build: raw.crm_contacts" in places and "build: marts.dim_customers" in places
    assert "serving: serving.duckdb" in places
    assert sum(loc.startswith("serving: serving-") for loc in places) == 2  # both kept versions

    build_marts(settings)
    pub.publish(settings, "run-3")
    assert pub.rollback(settings).run_id == "run-2"
    assert leaks(settings.data_dir) == []
    assert pub.rollback(settings).run_id == "run-1"
    assert leaks(settings.data_dir) == []
    assert _dim(settings.serving_path)[ERASED][0] is None

    # a replay of an old export with the email in clear: it stays erased
    _put(settings, DAY1, _crm(DAY1, [(ERASED, EMAIL.lower(), False), (KEPT, "keep@example.com", False)]))
    ingest_day(settings, "crm", DAY1)
    build_marts(settings)
    pub.publish(settings, "replay")
    assert leaks(settings.data_dir) == []
    history = [e["event"] for e in pub.read_history(settings)]
    assert history.count("rollback") == 2


def test_a_version_written_before_the_erasure_is_scrubbed_when_rolled_back_to(settings):
    """A kept version the ingest could not rewrite (here: restored from a backup) is scrubbed by
    the rollback that serves it again."""
    _put(settings, DAY1, _crm(DAY1, [(ERASED, EMAIL, False)]))
    _load_build_publish(settings, DAY1, "run-1")
    old = pub.list_versions(settings)[0]
    backup = old.read_bytes()
    _put(settings, DAY2, _crm(DAY2, [(ERASED, EMAIL, True)]))
    _load_build_publish(settings, DAY2, "run-2")
    old.chmod(0o644)
    old.write_bytes(backup)  # the pre-erasure version is back
    assert leaks(settings.data_dir)
    result = pub.rollback(settings)
    assert result.run_id == "run-1"
    assert leaks(settings.data_dir) == []
    [event] = [e for e in pub.read_history(settings) if e["event"] == "rollback"]
    assert event["erasures_reapplied"] == 1 and event["erased_rows_scrubbed"] == 1


def test_serving_is_an_independent_copy_of_its_version(settings):
    _put(settings, DAY1, _crm(DAY1, [(KEPT, "keep@example.com", False)]))
    _load_build_publish(settings, DAY1, "run-1")
    [version] = pub.list_versions(settings)
    assert not settings.serving_path.samefile(version)
    assert version.stat().st_nlink == 1
    settings.serving_path.chmod(0o644)
    with open(settings.serving_path, "r+b") as fh:  # damaged in place
        fh.truncate(4096)
    assert pub.read_publish_log(version)[-1]["run_id"] == "run-1"  # the kept copy is intact
    served, problem = pub.served_state(settings)
    assert served is None and "unreadable" in problem
    result = pub.rollback(settings)  # falls back to the newest intact kept version
    assert result.run_id == "run-1" and result.from_run_id is None
    assert pub.current_version(settings).run_id == "run-1"
    [event] = [e for e in pub.read_history(settings) if e["event"] == "rollback"]
    assert "unreadable" in event["serving_was_unreadable"]


def test_the_audit_names_each_contact_where_its_rows_were_scrubbed_and_how_many(settings):
    """An erasure already done is not audited again when a later one is: each day's rows name the
    contacts whose PII was cleared that day, place by place, with their own row counts."""
    _put(settings, DAY1, _crm(DAY1, [(ERASED, EMAIL, False), (KEPT, "keep@example.com", False)]))
    _load_build_publish(settings, DAY1, "run-1")
    _put(settings, DAY2, _crm(DAY2, [(ERASED, EMAIL, True)]))
    ingest_day(settings, "crm", DAY2)
    _put(settings, DAY3, _crm(DAY3, [(KEPT, "keep@example.com", True)]))
    ingest_day(settings, "crm", DAY3)
    assert leaks(settings.data_dir) == []

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        audit = con.execute(
            f"select contact_id, location, rows_scrubbed, split_part(batch_id, '@', 1) from {AUDIT_TABLE} "
            "where location not like 'serving: serving-%' order by scrubbed_at, contact_id, location"
        ).fetchall()
    finally:
        con.close()
    assert audit == [
        # day 2: C1's export row and its erasure row in raw, its hash in both tables and the served file
        (ERASED, "build: intermediate.int_contacts", 1, "crm/2025-01-03/contacts.csv"),
        (ERASED, "build: marts.dim_customers", 1, "crm/2025-01-03/contacts.csv"),
        (ERASED, "build: raw.crm_contacts", 2, "crm/2025-01-03/contacts.csv"),
        (ERASED, "serving: serving.duckdb", 1, "crm/2025-01-03/contacts.csv"),
        # day 3: C2 only
        (KEPT, "build: intermediate.int_contacts", 1, "crm/2025-01-04/contacts.csv"),
        (KEPT, "build: marts.dim_customers", 1, "crm/2025-01-04/contacts.csv"),
        (KEPT, "build: raw.crm_contacts", 2, "crm/2025-01-04/contacts.csv"),
        (KEPT, "serving: serving.duckdb", 1, "crm/2025-01-04/contacts.csv"),
    ]
