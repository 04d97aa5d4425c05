"""CLI writers end a fault with an explanation, never a traceback."""

from __future__ import annotations

import errno

import duckdb
import pytest

from growthops.commands import replay as replay_cmd
from growthops.commands.cli import main
from growthops.config import load_settings
from growthops.warehouse import WarehouseLocked


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "data"))
    return load_settings()


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
        (
            WarehouseLocked("growthops.duckdb is held by python3 (PID 4242): another load is running"),
            "PID 4242",
        ),
        (
            duckdb.IOException(
                'Could not set lock on file "x": Conflicting lock is held in /usr/bin/python3 (PID 77)'
            ),
            "held by /usr/bin/python3 (PID 77)",
        ),
    ],
    ids=["disk-full", "locked", "duckdb-lock"],
)
def test_replay_explains_a_fault(settings, monkeypatch, capsys, fault, said):
    def failing(*_args, **_kwargs):
        raise fault

    monkeypatch.setattr(replay_cmd, "replay", failing)
    assert main(["replay", "orders", "2025-01-04"]) == 1
    err = capsys.readouterr().err
    assert "FAILED (nothing more was published)" in err and said in err
    assert "Traceback" not in err
