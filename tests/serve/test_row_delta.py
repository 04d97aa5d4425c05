"""The row delta of one mart (growthops.serve.row_delta): what it writes and when it declines."""

from __future__ import annotations

import duckdb
import pytest

from growthops.serve import row_delta
from growthops.serve.fingerprint import mart_fingerprints

ROWS = 300_000  # more than two of DuckDB's row groups (122,880 rows): deletes stay in the file


@pytest.fixture
def files(tmp_path):
    """A build DB and a version file with the same mart ``t``; a connection to the build with the
    version attached as ``v`` (read-write), as a publication has it."""
    build, version = tmp_path / "build.duckdb", tmp_path / "version.duckdb"
    for path in (build, version):
        con = duckdb.connect(str(path))
        con.execute("create schema marts")
        con.execute(f"create table marts.t as select range as id, range % 7 as n from range({ROWS})")
        con.close()
    con = duckdb.connect(str(build))
    con.execute(f"attach '{version}' as v (read_write)")
    yield con, version
    con.close()


def _same_content(con) -> bool:
    fp = {db: mart_fingerprints(con, db)["t"] for db in ("build", "v")}
    return fp["build"] == fp["v"]


def test_only_the_changed_rows_are_written(files):
    con, _ = files
    con.execute("update build.marts.t set n = -1 where id in (5, 7)")
    con.execute("delete from build.marts.t where id = 9")
    con.execute("insert into build.marts.t values (-3, 3)")
    delta = row_delta.apply_row_delta(con, "build", "v", "t", ROWS)
    assert (delta.applied, delta.added, delta.removed, delta.dead) == (True, 3, 3, 0)
    assert _same_content(con)
    assert con.execute("select n from v.marts.t where id in (5, 7)").fetchall() == [(-1,), (-1,)]
    temp = "select count(*) from duckdb_tables() where temporary and table_name = ?"
    assert con.execute(temp, [row_delta.DELTA_TABLE]).fetchone() == (0,)


def test_too_many_changed_rows_write_nothing(files, monkeypatch):
    con, _ = files
    monkeypatch.setattr(row_delta, "MAX_SHARE", 0.001)  # 300 rows
    con.execute("update build.marts.t set n = -1 where id < 151")  # 151 added + 151 removed
    delta = row_delta.apply_row_delta(con, "build", "v", "t", ROWS)
    assert (delta.applied, delta.added, delta.removed) == (False, 151, 151)
    assert con.execute("select count(*) from v.marts.t where n = -1").fetchone() == (0,)


def test_rows_an_earlier_delta_left_deleted_count_against_the_share(files, monkeypatch):
    con, version = files
    con.execute("detach v")
    old = duckdb.connect(str(version))
    old.execute("delete from marts.t where id % 1000 = 0")  # 300 rows deleted, kept in the file
    old.execute("insert into marts.t select range * 1000, (range * 1000) % 7 from range(300)")
    old.close()
    con.execute(f"attach '{version}' as v (read_write)")
    monkeypatch.setattr(row_delta, "MAX_SHARE", 0.001)  # 300 rows
    con.execute("update build.marts.t set n = -1 where id = 1")
    delta = row_delta.apply_row_delta(con, "build", "v", "t", ROWS)
    assert (delta.applied, delta.added, delta.removed, delta.dead) == (False, 1, 1, 300)

    monkeypatch.setattr(row_delta, "MAX_SHARE", 0.002)  # 600 rows: 302 are fewer
    delta = row_delta.apply_row_delta(con, "build", "v", "t", ROWS)
    assert (delta.applied, delta.dead) == (True, 300)
    assert _same_content(con)


def test_a_mart_missing_from_the_previous_file_is_left_to_be_copied(files):
    con, _ = files
    con.execute("drop table v.marts.t")
    delta = row_delta.apply_row_delta(con, "build", "v", "t", ROWS)
    assert (delta.applied, delta.added, delta.removed, delta.dead) == (False, 0, 0, 0)
