"""Publication carries unchanged marts from the previous version: same content as a full copy.

Every test compares the serving file of a publication that carried tables with a full publication
of the same build DB into a second data root (nothing to carry there): tables, column types,
comments and every row must be equal.
"""

from __future__ import annotations

import hashlib

import duckdb
import pytest

from growthops.config import load_settings
from growthops.serve import publish as pub
from growthops.serve.fingerprint import mart_fingerprints
from growthops.warehouse import connect

META_COMPARED = ("mart_fingerprints", "load_ledger", "rejects_summary")  # publish_log differs by design


def _edit_build(settings, *sql: str) -> None:
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        for statement in sql:
            con.execute(statement)
    finally:
        con.close()


def _content(path) -> dict:
    """Every mart (and compared meta table): comment, columns with types and comments, sorted rows."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for schema, name, comment in con.execute(
            "select schema_name, table_name, comment from duckdb_tables() order by all"
        ).fetchall():
            if schema == "meta" and name not in META_COMPARED:
                continue
            columns = con.execute(
                "select column_name, data_type, comment from duckdb_columns() "
                "where schema_name = ? and table_name = ? order by column_index",
                [schema, name],
            ).fetchall()
            rows = con.execute(f"select * from {schema}.{name} order by all").fetchall()
            out[f"{schema}.{name}"] = (comment, columns, rows)
        return out
    finally:
        con.close()


def _published_bytes(settings) -> dict[str, str]:
    """sha256 of the serving file and of every kept version."""
    files = [settings.serving_path, *pub.list_versions(settings)]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture
def full_publication(tmp_path, monkeypatch, settings):
    """``full_publication(run_id)``: the serving file of publishing the current build DB into an
    empty second data root (every mart copied); the first data root is left alone."""

    def _publish(run_id: str):
        monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / f"full-{run_id}"))
        other = load_settings()
        other.warehouse_dir.mkdir(parents=True)
        monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(settings.data_dir))
        con = connect(settings.warehouse_path, read_only=True)
        try:
            result = pub.publish(other, run_id, con=con)
        finally:
            con.close()
        assert result.carried == []
        return other.serving_path

    return _publish


def test_unchanged_marts_are_carried_and_the_file_equals_a_full_publication(
    settings, build, full_publication
):
    build("one", rows=4, batches=("fx:a",))
    first = pub.publish(settings, "one")
    assert first.carried == [] and len(first.copied) == 6
    first_bytes = first.version_file.read_bytes()

    _edit_build(
        settings,
        "update marts.fct_orders set amount = amount + 1 where id = 2",
        "comment on column marts.dim_customers.amount is 'Amount, described now'",
        "drop table marts.mart_funnel_stages",
        "create table marts.mart_new as select range as id from range(3)",
    )
    second = pub.publish(settings, "two")

    assert second.copied == ["dim_customers", "fct_orders", "mart_new"]
    assert second.carried == [
        "mart_channel_funnel_daily",
        "mart_cohort_retention",
        "mart_reactivation_candidates",
    ]
    served = _content(settings.serving_path)
    assert served == _content(full_publication("two"))
    assert "marts.mart_funnel_stages" not in served
    assert served["marts.fct_orders"][2][2] == (2, "one", 4.0)  # 2 * 1.5 + 1
    assert ("amount", "DECIMAL(21,1)", "Amount, described now") in served["marts.dim_customers"][1]
    assert [r["run_id"] for r in pub.read_publish_log(settings.serving_path)] == ["one", "two"]
    assert first.version_file.read_bytes() == first_bytes  # the previous version is never written
    event = pub.read_history(settings)[-1]
    assert (event["marts_copied"], event["marts_carried"]) == (second.copied, second.carried)


def test_a_build_with_nothing_changed_copies_no_mart_and_rollback_still_works(
    settings, build, full_publication
):
    build("same", rows=3)
    pub.publish(settings, "a")
    result = pub.publish(settings, "b")
    assert result.copied == [] and len(result.carried) == 6
    assert _content(settings.serving_path) == _content(full_publication("b"))

    _edit_build(settings, "delete from marts.fct_orders where id = 0")
    changed = pub.publish(settings, "c")
    assert changed.copied == ["fct_orders"]
    assert _content(settings.serving_path)["marts.fct_orders"][2][0][0] == 1

    assert pub.rollback(settings).run_id == "b"
    assert _content(settings.serving_path)["marts.fct_orders"][2][0][0] == 0
    assert pub.rollback(settings).run_id == "a"
    assert pub.rollback(settings, to_run_id="c").run_id == "c"
    assert len(_content(settings.serving_path)["marts.fct_orders"][2]) == 2


def test_a_carried_table_that_no_longer_matches_its_fingerprint_is_copied_again(settings, build):
    build("one")
    first = pub.publish(settings, "one")
    # the kept version was rewritten behind the publication's back (as an erasure rewrites it)
    first.version_file.chmod(0o644)
    con = duckdb.connect(str(first.version_file))
    con.execute("update marts.dim_customers set amount = -1")
    con.close()
    first.version_file.chmod(0o444)

    result = pub.publish(settings, "two")
    assert result.carried == [] and len(result.copied) == 6  # started over as a full publication
    rows = _content(settings.serving_path)["marts.dim_customers"][2]
    assert [r[2] for r in rows] == [0.0, 1.5, 3.0, 4.5, 6.0, 7.5]
    assert not [p.name for p in settings.versions_dir.iterdir() if ".building" in p.name]


def test_a_crash_while_replacing_changed_marts_leaves_serving_and_versions_untouched(
    settings, build, monkeypatch
):
    build("good")
    pub.publish(settings, "good")
    _edit_build(settings, "update marts.fct_orders set amount = 0")
    before = _published_bytes(settings)
    original = pub.write_version

    def failing(con, catalog, building, relations, lineage, own_row, plan):
        assert plan.carried  # the delta path
        relations = [*relations, ("no_such_mart", None)]  # its copy fails after the clone
        return original(con, catalog, building, relations, lineage, own_row, plan)

    monkeypatch.setattr(pub, "write_version", failing)
    with pytest.raises(pub.PublishError, match="Nothing was published"):
        pub.publish(settings, "bad")
    assert _published_bytes(settings) == before
    assert not [p.name for p in settings.versions_dir.iterdir() if ".building" in p.name]
    assert pub.current_version(settings).run_id == "good"


def test_fingerprints_see_content_not_order(settings):
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("create schema marts")
    con.execute("create table marts.a as select * from (values (1, 'x'), (2, 'y'), (2, 'y')) t(n, s)")
    con.execute(
        "create table marts.b as select * from (values (2, 'y'), (1, 'x'), (2, 'y')) t(n, s)"
    )  # reordered
    con.execute(
        "create table marts.c as select * from (values (1, 'y'), (2, 'x'), (2, 'y')) t(n, s)"
    )  # swapped
    con.execute("create table marts.d as select * from (values (1, 'x')) t(n, s)")  # duplicates removed
    con.execute("create table marts.e as select * from (values (1, 'x'), (1, 'x'), (2, 'y')) t(n, s)")
    con.execute("create table marts.f as select n::bigint as n, s from marts.a")  # another type
    fp = mart_fingerprints(con, con.execute("select current_database()").fetchone()[0])
    con.close()
    assert fp["a"] == fp["b"]
    assert fp["a"].row_count == fp["c"].row_count == fp["e"].row_count == 3
    assert len({fp[n].content_hash for n in "acde"}) == 4
    assert fp["f"].shape_md5 != fp["a"].shape_md5  # same values, other column type: not carried


@pytest.fixture
def deltas(monkeypatch):
    """Row deltas for the small test marts (any size); the list of every :class:`RowDelta` made."""
    from growthops.serve import row_delta

    monkeypatch.setattr(row_delta, "MIN_ROWS", 1)
    made = []
    original = row_delta.apply_row_delta

    def spy(*args):
        made.append((args[3], original(*args)))
        return made[-1][1]

    monkeypatch.setattr(row_delta, "apply_row_delta", spy)
    return made


def test_a_large_changed_mart_gets_only_its_changed_rows_and_equals_a_full_publication(
    settings, build, full_publication, deltas
):
    build("one", rows=20)
    first = pub.publish(settings, "one")
    assert first.patched == [] and len(first.copied) == 6  # nothing to patch from
    first_bytes = first.version_file.read_bytes()

    _edit_build(
        settings,
        "update marts.fct_orders set amount = amount + 1 where id = 2",
        "delete from marts.fct_orders where id = 3",
        "insert into marts.fct_orders values (99, 'one', 0.5)",
    )
    second = pub.publish(settings, "two")
    assert (second.patched, second.copied) == (["fct_orders"], [])
    assert len(second.carried) == 5
    [(name, delta)] = deltas
    assert (name, delta.applied, delta.added, delta.removed, delta.dead) == ("fct_orders", True, 2, 2, 0)
    served = _content(settings.serving_path)
    assert served == _content(full_publication("two"))
    ids = [r[0] for r in served["marts.fct_orders"][2]]
    assert len(ids) == 20 and 3 not in ids and 99 in ids
    assert served["marts.fct_orders"][2][2] == (2, "one", 4.0)  # 2 * 1.5 + 1
    assert first.version_file.read_bytes() == first_bytes  # the previous version is never written
    event = pub.read_history(settings)[-1]
    assert (event["marts_copied"], event["marts_patched"]) == ([], ["fct_orders"])

    # a delta on a version that was itself patched
    _edit_build(settings, "update marts.fct_orders set amount = 0 where id = 4")
    third = pub.publish(settings, "three")
    assert third.patched == ["fct_orders"]
    assert (deltas[-1][1].added, deltas[-1][1].removed) == (1, 1)
    assert _content(settings.serving_path) == _content(full_publication("three"))


def test_a_mart_with_most_rows_changed_is_copied_whole(settings, build, full_publication, deltas):
    build("one", rows=20)
    pub.publish(settings, "one")
    build("two", rows=20)  # every row carries the new run_tag: every row changed
    second = pub.publish(settings, "two")
    assert second.patched == [] and len(second.copied) == 6
    assert [(name, d.applied, d.added, d.removed) for name, d in deltas][:1] == [
        ("dim_customers", False, 40, 40)
    ]
    assert all(not d.applied for _, d in deltas) and len(deltas) == 6
    assert _content(settings.serving_path) == _content(full_publication("two"))


def test_a_row_delta_on_repeated_rows_fails_verification_and_every_mart_is_copied(
    settings, build, full_publication, deltas
):
    build("one", rows=20)
    pub.publish(settings, "one")
    # a second copy of a row: its hash is on both sides, so the delta misses it
    _edit_build(settings, "insert into marts.fct_orders select * from marts.fct_orders where id = 1")
    second = pub.publish(settings, "two")
    assert [(name, d.applied, d.added, d.removed) for name, d in deltas] == [("fct_orders", True, 0, 0)]
    assert second.patched == [] and len(second.copied) == 6  # started over as a full publication
    served = _content(settings.serving_path)
    assert served == _content(full_publication("two"))
    assert [r[0] for r in served["marts.fct_orders"][2]].count(1) == 2
