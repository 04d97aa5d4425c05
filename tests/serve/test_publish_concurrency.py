"""Readers never see a half-written or mixed serving file; a crash never publishes; loads never block BI."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest
from duckdb_holder import held_read_write

from growthops.serve import publish as pub


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import duckdb

    serving, stop, out, max_seconds = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4])
    reads, errors, mixed, seen = 0, [], [], []
    deadline = time.monotonic() + max_seconds
    while not stop.exists() and time.monotonic() < deadline:
        try:
            con = duckdb.connect(str(serving), read_only=True)
            try:
                tables = [r[0] for r in con.execute(
                    "select table_name from duckdb_tables() where schema_name = 'marts' order by 1").fetchall()]
                tags = {t: sorted(r[0] for r in con.execute(f"select distinct run_tag from marts.{t}").fetchall())
                        for t in tables}
                own = con.execute(
                    "select run_id from meta.publish_log order by published_at desc limit 1").fetchone()[0]
            finally:
                con.close()
            reads += 1
            if len(tables) != 6 or any(v != [own] for v in tags.values()):
                mixed.append({"log": own, "tables": tags})
            if not seen or seen[-1] != own:
                seen.append(own)
        except Exception as exc:  # every failure to read counts
            errors.append(repr(exc))
        time.sleep(0.002)  # leave the publisher some CPU on a 2-core machine
    out.write_text(json.dumps({"reads": reads, "errors": errors, "mixed": mixed, "seen": seen}))
    """
)


def test_reader_process_sees_only_complete_single_run_versions_during_publishes(settings, build, tmp_path):
    publishes = 21
    build("run-00")
    pub.publish(settings, "run-00")
    script = tmp_path / "reader.py"
    script.write_text(READER)
    stop, out = tmp_path / "stop", tmp_path / "reader.json"
    reader = subprocess.Popen(
        [sys.executable, str(script), str(settings.serving_path), str(stop), str(out), "120"]
    )
    try:
        time.sleep(0.5)  # let the reader get going on version run-00
        for i in range(1, publishes + 1):
            build(f"run-{i:02d}", rows=1 + i % 4)
            pub.publish(settings, f"run-{i:02d}")
            time.sleep(0.05)
    finally:
        stop.touch()
        assert reader.wait(timeout=60) == 0
    report = json.loads(out.read_text())
    assert report["errors"] == []
    assert report["mixed"] == []
    assert report["reads"] >= publishes
    # it really read across publications, in order
    assert len(report["seen"]) >= 5
    assert report["seen"] == sorted(report["seen"])
    assert pub.current_version(settings).run_id == f"run-{publishes:02d}"


def test_serving_opens_read_only_while_a_load_holds_the_build_db(settings, build, tmp_path):
    build("served")
    pub.publish(settings, "served")
    with held_read_write(
        settings.warehouse_path, statement="create table if not exists loading as select 1 as x"
    ):
        with pytest.raises(duckdb.IOException, match="lock"):  # the build DB is held by the load ...
            duckdb.connect(str(settings.warehouse_path), read_only=True)
        con = duckdb.connect(str(settings.serving_path), read_only=True)  # ... BI is not blocked
        try:
            assert con.execute("select count(*), min(run_tag) from marts.fct_orders").fetchone() == (
                3,
                "served",
            )
        finally:
            con.close()


# --------------------------------------------------------------------------------- crash safety


class _FailAt:
    """Connection proxy whose ``execute`` fails (or hangs) on the first statement starting with ``prefix``."""

    def __init__(self, con, prefix, action):
        self._con, self._prefix, self._action = con, prefix, action

    def execute(self, sql, *args):
        if sql.lstrip().lower().startswith(self._prefix):
            self._action()
        return self._con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._con, name)


def _boom():
    raise OSError("disk full (injected)")


@pytest.mark.parametrize(
    "where",
    ["before_checkpoint", "during_copy", "verify", "link_before_replace"],
)
def test_failure_anywhere_before_replace_keeps_serving_byte_identical(settings, build, monkeypatch, where):
    build("good")
    pub.publish(settings, "good")
    before = sha256(settings.serving_path)
    versions_before = pub.list_versions(settings)
    build("bad", rows=7)

    if where in ("before_checkpoint", "during_copy"):
        original = pub.write_version
        prefix = "checkpoint" if where == "before_checkpoint" else "create table"

        def failing_write(con, *args):
            return original(_FailAt(con, prefix, _boom), *args)

        monkeypatch.setattr(pub, "write_version", failing_write)
    elif where == "verify":
        monkeypatch.setattr(pub, "verify_version", lambda *a: _boom())
    else:
        monkeypatch.setattr(pub, "fsync_file", lambda p: _boom() if p.name.endswith(".tmp") else None)

    with pytest.raises(OSError, match="injected"):
        pub.publish(settings, "bad")
    assert sha256(settings.serving_path) == before
    assert pub.current_version(settings).run_id == "good"
    assert pub.list_versions(settings) == versions_before

    monkeypatch.undo()
    result = pub.publish(settings, "after")
    leftovers = [p.name for p in settings.versions_dir.iterdir() if ".building" in p.name]
    assert leftovers == []
    assert not settings.serving_path.with_name("serving.duckdb.tmp").exists()
    assert [r["run_id"] for r in pub.read_publish_log(settings.serving_path)] == ["good", "after"]
    assert result.row_counts["fct_orders"] == 7


KILLED_PUBLISHER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from growthops.config import load_settings
    from growthops.serve import publish as pub

    where, ready = sys.argv[1], Path(sys.argv[2])

    def hang():
        ready.touch()
        time.sleep(120)

    class HangAt:
        def __init__(self, con, prefix):
            self._con, self._prefix = con, prefix
        def execute(self, sql, *args):
            if sql.lstrip().lower().startswith(self._prefix):
                hang()
            return self._con.execute(sql, *args)
        def __getattr__(self, name):
            return getattr(self._con, name)

    if where == "before_checkpoint":
        original = pub.write_version
        pub.write_version = lambda con, *a: original(HangAt(con, "checkpoint"), *a)
    elif where == "before_verify":
        pub.verify_version = lambda *a: hang()
    elif where == "link_before_replace":
        original_fsync = pub.fsync_file
        pub.fsync_file = lambda p: hang() if p.name.endswith(".tmp") else original_fsync(p)
    pub.publish(load_settings(), "killed")
    """
)


@pytest.mark.parametrize("where", ["before_checkpoint", "before_verify", "link_before_replace"])
def test_killed_publisher_never_publishes_and_leftovers_are_cleaned(settings, build, tmp_path, where):
    build("good")
    pub.publish(settings, "good")
    before = sha256(settings.serving_path)
    build("killed", rows=9)
    script, ready = tmp_path / "publisher.py", tmp_path / "ready"
    script.write_text(KILLED_PUBLISHER)
    proc = subprocess.Popen([sys.executable, str(script), where, str(ready)])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert ready.exists(), f"publisher exited early with {proc.returncode}"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert sha256(settings.serving_path) == before
    assert pub.current_version(settings).run_id == "good"
    left = sorted(p.name for p in settings.versions_dir.iterdir() if ".building" in p.name)
    assert left and all(n.startswith("serving-") for n in left)  # the half-made version is there ...
    if where == "before_checkpoint":
        assert any(n.endswith(".building.wal") for n in left)  # ... with its data still in the WAL

    result = pub.publish(settings, "next")  # ... and the next publication cleans it up
    assert not [p for p in settings.versions_dir.iterdir() if ".building" in p.name]
    assert not settings.serving_path.with_name("serving.duckdb.tmp").exists()
    assert [r["run_id"] for r in pub.read_publish_log(settings.serving_path)] == ["good", "next"]
    assert result.row_counts["fct_orders"] == 9
    assert len(pub.list_versions(settings)) == 2


def test_crash_after_replace_is_recovered_not_deleted(settings, build):
    """A publisher killed between the replace and the final rename left the served file as .building."""
    build("one")
    pub.publish(settings, "one")
    build("two")
    two = pub.publish(settings, "two")
    building = two.version_file.with_name(two.version_file.name + ".building")
    two.version_file.rename(building)  # the state right after os.replace, before the rename
    build("three")
    pub.publish(settings, "three")
    assert two.version_file.exists()
    assert pub.read_publish_log(two.version_file)[-1]["run_id"] == "two"
    assert pub.rollback(settings).run_id == "two"


def test_serving_file_held_read_write_is_a_transient_lock_error(settings, build, tmp_path):
    """Someone opened the serving file read-write (they must not): retry later, do not drop history."""
    from growthops.warehouse import WarehouseLocked

    build("one")
    pub.publish(settings, "one")
    with held_read_write(settings.serving_path):
        build("two")
        with pytest.raises(WarehouseLocked):
            pub.publish(settings, "two")
    pub.publish(settings, "two")
    assert [r["run_id"] for r in pub.read_publish_log(settings.serving_path)] == ["one", "two"]
