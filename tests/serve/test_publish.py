"""Publication: version files, the publish log, atomic replace, pruning, rollback, crash safety."""

from __future__ import annotations

import json

import duckdb
import pytest

from growthops.serve import publish as pub
from growthops.warehouse import connect


def _serving_tables(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            name: (
                comment,
                con.execute(f"select count(*), min(run_tag), max(run_tag) from marts.{name}").fetchone(),
            )
            for name, comment in con.execute(
                "select table_name, comment from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        }
    finally:
        con.close()


def test_publish_twice_log_has_both_runs_with_row_counts(settings, build):
    counts1 = build("run-1", rows=2, batches=("fx:2025-01-01:a",))
    r1 = pub.publish(settings, "run-1")
    assert r1.row_counts == counts1
    assert r1.source_batches == ["fx:2025-01-01:a"]  # derived: loaded since no previous publication
    assert r1.previous_run_id is None

    counts2 = build("run-2", rows=5, batches=("fx:2025-01-02:b",))
    r2 = pub.publish(settings, "scheduled__2025-01-02T00:00:00+00:00", source_batches=["orders:x", "crm:y"])
    assert r2.previous_run_id == "run-1"
    assert r2.source_batches == ["crm:y", "orders:x"]

    tables = _serving_tables(settings.serving_path)
    assert {n: c[1][0] for n, c in tables.items()} == counts2
    assert tables["fct_orders"][1] == (5, "run-2", "run-2")
    assert counts2["mart_reactivation_candidates"] == 30
    # BI reads descriptions from the serving file: table and column comments are carried
    assert tables["fct_orders"][0] == "One row per order, latest version"
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    col = con.execute(
        "select comment from duckdb_columns() where table_name = 'dim_customers' and column_name = 'run_tag'"
    ).fetchone()[0]
    con.close()
    assert col == "Run that built the row"

    log = pub.read_publish_log(settings.serving_path)
    assert [r["run_id"] for r in log] == ["run-1", "scheduled__2025-01-02T00:00:00+00:00"]
    assert [r["row_counts"] for r in log] == [counts1, counts2]
    assert log[0]["source_batches"] == ["fx:2025-01-01:a"]
    assert log[1]["version_file"] == r2.version_file.name
    assert log[1]["source_watermarks"]["raw.fx_rates"]["batches"] == 2
    assert log[0]["published_at"] < log[1]["published_at"]
    assert r2.version_file.name.startswith("serving-")
    assert "scheduled__2025-01-02T00_00_00_00_00" in r2.version_file.name

    cur = pub.current_version(settings)
    assert (cur.run_id, cur.source_batches, cur.row_counts) == (r2.run_id, ["crm:y", "orders:x"], counts2)
    assert [r["run_id"] for r in cur.lineage] == ["run-1", r2.run_id]

    # the serving file is an independent copy of the version file, no WAL anywhere, nothing left over
    assert not settings.serving_path.samefile(r2.version_file)
    assert settings.serving_path.read_bytes() == r2.version_file.read_bytes()
    names = sorted(p.name for p in settings.versions_dir.iterdir())
    assert not [n for n in names if n.endswith((".wal", ".building"))]
    assert [p.name for p in pub.list_versions(settings)] == [r1.version_file.name, r2.version_file.name]
    assert not settings.serving_path.with_name("serving.duckdb.wal").exists()
    events = pub.read_history(settings)
    assert [(e["event"], e["run_id"]) for e in events] == [("publish", "run-1"), ("publish", r2.run_id)]


def test_default_source_batches_are_those_loaded_since_previous_publication(settings, build):
    build("a", batches=("b1", "b2"))
    assert pub.publish(settings, "a").source_batches == ["b1", "b2"]
    build("b", batches=("b3",))
    assert pub.publish(settings, "b").source_batches == ["b3"]
    build("c")
    assert pub.publish(settings, "c").source_batches == []


def test_publish_uses_given_build_connection(settings, build):
    build("with-con")
    con = connect(settings.warehouse_path)  # the writer the transform task already holds
    try:
        result = pub.publish(settings, "with-con", con=con)
    finally:
        con.close()
    assert result.row_counts["fct_orders"] == 3
    assert pub.current_version(settings).run_id == "with-con"


def test_no_marts_is_an_error_and_publishes_nothing(settings):
    duckdb.connect(str(settings.warehouse_path)).close()
    with pytest.raises(pub.PublishError, match="no tables"):
        pub.publish(settings, "empty")
    assert not settings.serving_path.exists()
    assert pub.list_versions(settings) == []


def test_keep_versions_prunes_older_than_three_previous(settings, build):
    results = []
    for i in range(6):
        build(f"r{i}")
        results.append(pub.publish(settings, f"r{i}"))
    kept = [p.name for p in pub.list_versions(settings)]
    assert kept == [r.version_file.name for r in results[2:]]  # current + 3 previous
    assert [p.name for p in results[-1].pruned] == [results[1].version_file.name]
    # the log stays cumulative even though old version files are gone
    assert [r["run_id"] for r in pub.read_publish_log(settings.serving_path)] == [f"r{i}" for i in range(6)]


def test_keep_versions_setting(settings, build, monkeypatch):
    monkeypatch.setenv("GROWTHOPS_WAREHOUSE_KEEP_VERSIONS", "1")
    from growthops.config import load_settings

    one = load_settings()
    for i in range(4):
        build(f"r{i}")
        pub.publish(one, f"r{i}")
    assert [pub.read_publish_log(p)[-1]["run_id"] for p in pub.list_versions(one)] == ["r2", "r3"]


def test_rollback_restores_previous_run_and_walks_back(settings, build):
    for i in range(3):
        build(f"r{i}", rows=i + 1)
        pub.publish(settings, f"r{i}")
    r3_file = pub.list_versions(settings)[-1]
    before = r3_file.read_bytes()

    res = pub.rollback(settings)
    assert (res.run_id, res.from_run_id) == ("r1", "r2")
    assert pub.current_version(settings).run_id == "r1"
    assert _serving_tables(settings.serving_path)["fct_orders"][1] == (2, "r1", "r1")
    assert r3_file.read_bytes() == before  # versions are never modified

    assert pub.rollback(settings).run_id == "r0"
    with pytest.raises(pub.RollbackError, match="no previous version"):
        pub.rollback(settings)
    assert pub.current_version(settings).run_id == "r0"

    # forward again to a named run
    assert pub.rollback(settings, to_run_id="r2").run_id == "r2"
    with pytest.raises(pub.RollbackError, match="no kept version of run 'nope'"):
        pub.rollback(settings, to_run_id="nope")
    events = [(e["event"], e["run_id"]) for e in pub.read_history(settings)]
    assert events[-3:] == [("rollback", "r1"), ("rollback", "r0"), ("rollback", "r2")]


def test_publish_after_rollback_carries_the_served_lineage(settings, build):
    for i in range(3):
        build(f"r{i}")
        pub.publish(settings, f"r{i}")
    pub.rollback(settings)  # r2 was bad
    build("r3")
    result = pub.publish(settings, "r3")
    assert result.previous_run_id == "r1"
    assert [r["run_id"] for r in pub.read_publish_log(settings.serving_path)] == ["r0", "r1", "r3"]
    assert pub.rollback(settings).run_id == "r1"  # the version r3 replaced, not the rolled-back r2
    # the rolled-back r2 left the kept versions at r3's publication
    assert sorted(pub.read_publish_log(p)[-1]["run_id"] for p in pub.list_versions(settings)) == [
        "r0",
        "r1",
        "r3",
    ]


def test_rollback_with_nothing_published(settings):
    with pytest.raises(pub.RollbackError, match="nothing is published"):
        pub.rollback(settings)


def _cli(argv):
    """``growthops rollback ARGV`` through the module's own add_arguments/run (as cli.py wires it)."""
    import argparse

    from growthops.commands import rollback as rollback_cli

    parser = argparse.ArgumentParser(prog="growthops rollback")
    rollback_cli.add_arguments(parser)
    return rollback_cli.run(parser.parse_args(argv))


def test_rollback_cli(settings, build, capsys):
    def main(argv):
        return _cli(argv[1:])

    for i in range(2):
        build(f"cli-{i}")
        pub.publish(settings, f"cli-{i}")
    assert main(["rollback", "--list"]) == 0
    listing = capsys.readouterr().out
    assert listing.count("serving-") == 2
    assert "* cli-1" in listing
    assert main(["rollback"]) == 0
    assert "now serving run cli-0" in capsys.readouterr().out
    assert pub.current_version(settings).run_id == "cli-0"
    assert main(["rollback", "--to", "missing"]) == 1
    assert "no kept version of run 'missing'" in capsys.readouterr().err
    assert main(["rollback", "--to", "cli-1"]) == 0
    assert "now serving run cli-1" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["rollback", "--help"])
    assert exc.value.code == 0
    assert "--to RUN_ID" in capsys.readouterr().out


def test_history_journal_is_json_lines(settings, build):
    build("j")
    pub.publish(settings, "j")
    lines = (settings.versions_dir / "HISTORY.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["row_counts"]["fct_orders"] == 3


def test_publish_while_this_process_holds_the_build_db_read_write(settings, build):
    """In-process dbt (growthops backfill) keeps the build DB open read-write in this process."""
    build("in-process")
    held = connect(settings.warehouse_path)
    try:
        assert pub.publish(settings, "in-process").row_counts["fct_orders"] == 3
    finally:
        held.close()
    assert pub.current_version(settings).run_id == "in-process"


def test_unreadable_serving_file_does_not_block_publication(settings, build):
    settings.serving_path.write_bytes(b"not a duckdb file" * 100)
    build("fresh")
    result = pub.publish(settings, "fresh")
    assert result.previous_run_id is None
    assert [r["run_id"] for r in pub.read_publish_log(settings.serving_path)] == ["fresh"]
