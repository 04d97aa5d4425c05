"""What the deployment README tells BI tools: mount the data folder read-only and open
``warehouse/serving.duckdb`` with ``read_only=True``; a publication (rename of a new file over
the serving path) never waits for a reader, and a reader sees the new version on reconnect.
"""

from __future__ import annotations

import errno
import hashlib
import shutil
import subprocess
import sys
import textwrap

import duckdb
import pytest


def _make_serving(path, rows: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(f"create table marts.fct_orders as select range as order_id from range({rows})")
    con.execute("checkpoint")
    con.close()


def _read_only_mount_available(tmp_path) -> str | None:
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "unshare/mount not available"
    probe = subprocess.run(
        [
            "unshare",
            "-m",
            "sh",
            "-c",
            f"mount --bind {tmp_path} {tmp_path} && mount -o remount,bind,ro {tmp_path}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return f"cannot make a read-only bind mount here: {probe.stderr.strip()[:200]}"
    return None


def test_bi_reads_serving_db_from_a_read_only_mount(tmp_path):
    """A read-only bind mount, as `-v <data>:/data:ro` gives a BI container (root can't write it)."""
    data = tmp_path / "data"
    serving = data / "warehouse" / "serving.duckdb"
    _make_serving(serving, rows=42)
    if reason := _read_only_mount_available(data):
        pytest.skip(reason)
    digest = hashlib.sha256(serving.read_bytes()).hexdigest()
    reader = textwrap.dedent(
        f"""
        import duckdb, sys
        path = {str(serving)!r}
        con = duckdb.connect(path, read_only=True)
        print("rows", con.execute("select count(*) from marts.fct_orders").fetchone()[0])
        con.close()
        try:
            duckdb.connect(path)  # a read-write open needs a writable folder (WAL, lock)
            print("read-write opened")
        except Exception as exc:
            print("read-write refused", type(exc).__name__)
        try:
            open({str(data / "probe")!r}, "w")
            print("folder writable")
        except OSError as exc:
            print("folder read-only", exc.errno)
        """
    )
    script = tmp_path / "reader.py"
    script.write_text(reader)
    result = subprocess.run(
        [
            "unshare",
            "-m",
            "sh",
            "-c",
            f'mount --bind "{data}" "{data}" && mount -o remount,bind,ro "{data}" && "{sys.executable}" "{script}"',
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "rows 42" in lines
    assert any(line.startswith("read-write refused") for line in lines), lines
    assert f"folder read-only {errno.EROFS}" in lines
    assert hashlib.sha256(serving.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in serving.parent.iterdir()) == ["serving.duckdb"]  # no .wal left


def test_publication_never_waits_for_a_reader(tmp_path):
    serving = tmp_path / "warehouse" / "serving.duckdb"
    _make_serving(serving, rows=10)
    reader = duckdb.connect(str(serving), read_only=True)
    assert reader.execute("select count(*) from marts.fct_orders").fetchone() == (10,)
    # the publisher: a new, checkpointed file renamed over the serving path while the reader is open
    new_version = serving.with_name("serving.v2.duckdb")
    _make_serving(new_version, rows=25)
    new_version.replace(serving)
    # the open reader keeps its consistent (old) version; a new connection sees the new one
    assert reader.execute("select count(*) from marts.fct_orders").fetchone() == (10,)
    reader.close()
    with duckdb.connect(str(serving), read_only=True) as fresh:
        assert fresh.execute("select count(*) from marts.fct_orders").fetchone() == (25,)
