"""Faults end in an explanation, never a traceback: a full disk or DuckDB failure while publishing,
a serving file held read-write or damaged, a build database held by another writer, lost or
emptied. Faults are injected (no privileges needed)."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import sys
from pathlib import Path

import duckdb
import pytest
from duckdb_holder import held_read_write

from growthops.commands.cli import main
from growthops.commands.status import collect_status, render
from growthops.failures import StageFailure
from growthops.ingest.lost_build import LostBuildError, guard
from growthops.reports import find_reports
from growthops.serve import publish as pub
from growthops.serve.stage import publish_marts
from growthops.warehouse import WarehouseLocked, wait_for_writer


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "fault",
    [OSError(errno.ENOSPC, "No space left on device"), duckdb.IOException("No space left on device")],
    ids=["enospc", "duckdb-io"],
)
def test_a_full_disk_while_publishing_is_a_report_and_a_status_line(settings, build, monkeypatch, fault):
    build("one")
    pub.publish(settings, "one")
    before = sha256(settings.serving_path)
    build("two", rows=5)

    def full(*_args):
        raise fault

    monkeypatch.setattr(pub, "write_version", full)
    with pytest.raises(StageFailure) as failure:
        publish_marts(settings, "two")
    md = Path(failure.value.report_path).read_text(encoding="utf-8")
    assert "publication failed" in md and "is the disk full?" in md and "Nothing was published" in md
    assert "BI still reads marts version run_id `one`" in md
    assert sha256(settings.serving_path) == before
    assert not [p for p in settings.versions_dir.iterdir() if ".building" in p.name]
    status = collect_status(settings)
    assert status.marts.failed_builds and status.needs_attention
    assert "is the disk full?" in render(status)


def test_status_rollback_and_publish_explain_a_serving_file_held_read_write(
    settings, build, tmp_path, capsys
):
    build("one")
    pub.publish(settings, "one")
    build("two")
    pub.publish(settings, "two")
    with held_read_write(settings.serving_path) as holder:
        assert main(["status"]) == 1
        out = capsys.readouterr().out
        assert "held read-write by another process" in out and f"PID {holder.pid}" in out
        build("three")
        with pytest.raises(WarehouseLocked) as locked:
            publish_marts(settings, "three")
        assert f"PID {holder.pid}" in str(locked.value)
        [(_path, report)] = find_reports(settings)
        assert report["serving_version"]["run_id"] == "two"  # not "nothing published yet"
        assert main(["rollback"]) == 0  # the previous of what the journal says is served
        assert "now serving run one" in capsys.readouterr().out
    assert pub.current_version(settings).run_id == "one"


def test_status_and_rollback_survive_a_truncated_serving_file(settings, build, capsys):
    build("one")
    pub.publish(settings, "one")
    build("two")
    pub.publish(settings, "two")
    settings.serving_path.chmod(0o644)
    with open(settings.serving_path, "r+b") as fh:
        fh.truncate(10_000)
    assert main(["status"]) == 1
    assert "SERVING FILE UNREADABLE" in capsys.readouterr().out
    assert main(["rollback", "--list"]) == 0
    assert main(["rollback"]) == 0  # the newest intact kept version: an independent copy
    assert pub.current_version(settings).run_id == "two"


def test_status_into_a_closed_pipe_is_quiet(settings, monkeypatch):
    read_end, write_end = os.pipe()
    os.close(read_end)

    class ClosedPipe(io.StringIO):
        def write(self, _text):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

        def fileno(self):
            return write_end

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["status"]) == 1  # no BrokenPipeError
    os.close(write_end)


def test_a_writer_waits_its_turn_and_says_who_holds_the_build_db(settings, build, tmp_path):
    build("one")
    said: list[str] = []
    with held_read_write(settings.warehouse_path, seconds=4) as holder:
        with pytest.raises(WarehouseLocked, match=f"PID {holder.pid}"):
            wait_for_writer(settings.warehouse_path, 0.5, said.append)
        wait_for_writer(settings.warehouse_path, 60, said.append, every=1)
    assert said and f"PID {holder.pid}" in said[0] and "waited" in said[0]


def test_a_lost_build_database_is_refused_not_published(settings, build):
    build("one", batches=("fx/2025-01-01/rates.csv@a", "fx/2025-01-02/rates.csv@b"))
    pub.publish(settings, "one")
    settings.warehouse_path.unlink()  # deleted; the next run recreates it with one day only
    build("two", batches=("fx/2025-01-03/rates.csv@c",))
    with pytest.raises(StageFailure) as failure:
        publish_marts(settings, "two")
    assert "less raw history than the version BI reads" in str(failure.value)
    assert "growthops backfill" in str(failure.value)
    assert pub.current_version(settings).run_id == "one"
    settings.warehouse_path.unlink()
    con = duckdb.connect(str(settings.warehouse_path))  # what the next load opens: refused before loading
    with pytest.raises(
        LostBuildError, match=r"raw.fx_rates: 0 batch\(es\), the publish log says .* built from 2"
    ):
        guard(settings, con)
    con.close()
    settings.warehouse_path.unlink()
    status = collect_status(settings)
    assert status.marts.build_lost and "BUILD DATABASE LOST" in render(status)
