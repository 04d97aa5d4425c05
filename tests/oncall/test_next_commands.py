"""One source of next commands: for the same situation the CLI message, the quarantine report,
the task report and ``growthops status`` print the same, correct command (growthops.next_steps).

Table-driven: each situation is set up once on a fresh data root, then every surface that shows it
is rendered and must contain the situation's command.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import duckdb
import pytest

from growthops import next_steps
from growthops.commands.cli import main
from growthops.commands.status import collect_status, render
from growthops.config import load_settings
from growthops.errors import QualityCheck, QualityReport
from growthops.ingest.quarantine import render_report
from growthops.reports import FailureReport, default_commands, report_failure
from growthops.serve import publish as pub

DAY = "2025-01-04"
FILE = f"orders/{DAY}/orders.csv"
NOW = datetime(2025, 1, 5, 8, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GROWTHOPS_INGEST_SETTLE_SECONDS", "0")
    return load_settings()


def _quality(quarantine_path: str | None, kind: str) -> QualityReport:
    return QualityReport(
        kind=kind,
        source="orders",
        day=DAY,
        source_file=FILE,
        checks=[QualityCheck("reject_threshold", "10% of rows rejected", "<= 1%")],
        quarantine_path=quarantine_path,
    )


def _quarantined(settings, capsys) -> dict[str, str]:
    target = settings.quarantine_dir / FILE
    target.parent.mkdir(parents=True)
    target.write_text("order_id\n")
    report = _quality(str(target), "reject threshold exceeded")
    task = FailureReport(
        kind="reject threshold exceeded", summary="x", source="orders", day=DAY, quarantined_to=str(target)
    )
    return {
        "cli message": report.message(),
        "quarantine report": render_report(report),
        "task report": "\n".join(default_commands(task)),
        "status": render(collect_status(settings, now=NOW)),
    }


def _refused_in_landing(settings, capsys) -> dict[str, str]:
    report = _quality(None, "contract mismatch")
    report_failure("contract mismatch", "two orders files", source="orders", day=DAY, settings=settings)
    task = FailureReport(kind="contract mismatch", summary="x", source="orders", day=DAY)
    return {
        "cli message": report.message(),
        "task report": "\n".join(default_commands(task)),
        "status": render(collect_status(settings, now=NOW)),
    }


def _unexpected_file(settings, capsys) -> dict[str, str]:
    path = settings.landing_dir / "orders" / DAY / "orders (1).csv"
    path.parent.mkdir(parents=True)
    path.write_text("order_id\n")
    old = time.time() - 3600
    import os

    os.utime(path, (old, old))
    main(["ingest", "--source", "orders", "--day", DAY])
    return {"cli message": capsys.readouterr().out, "status": render(collect_status(settings, now=NOW))}


def _marts(settings, tag: str) -> None:
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute("create schema if not exists marts")
        con.execute(f"create or replace table marts.fct_orders as select 1 as id, '{tag}' as tag")
    finally:
        con.close()


def _rolled_back(settings, capsys) -> dict[str, str]:
    settings.warehouse_dir.mkdir(parents=True)
    for run in ("run-a", "run-b"):
        _marts(settings, run)
        pub.publish(settings, run)
    main(["rollback"])
    return {"cli message": capsys.readouterr().out, "status": render(collect_status(settings, now=NOW))}


SITUATIONS = [
    ("quarantined file", _quarantined, next_steps.quarantined("orders", DAY)),
    ("file refused, left in landing", _refused_in_landing, next_steps.refused_in_landing("orders", DAY)),
    (
        "unexpected file name",
        _unexpected_file,
        next_steps.unexpected_file(
            "orders", DAY, f"orders/{DAY}/orders (1).csv", "orders.*, orders_part[0-9]*.*"
        ),
    ),
    ("BI reads a rolled-back version", _rolled_back, next_steps.rolled_back("run-b")),
]


@pytest.mark.parametrize(("situation", "setup", "commands"), SITUATIONS, ids=[s[0] for s in SITUATIONS])
def test_every_surface_prints_the_same_command(settings, capsys, situation, setup, commands):
    surfaces = setup(settings, capsys)
    assert len(surfaces) >= 2
    for surface, text in surfaces.items():
        assert commands[0] in text, f"{situation}: {surface} does not say {commands[0]!r}:\n{text}"


def test_quarantined_command_is_the_one_that_finds_the_file():
    """``replay --from-quarantine`` moves the file back first; plain ``replay`` reads landing only."""
    assert (
        next_steps.primary(next_steps.quarantined("orders", DAY))
        == f"growthops replay orders {DAY} --from-quarantine"
    )
    assert date.fromisoformat(DAY)


def test_status_flags_a_rolled_back_version(settings, capsys):
    _rolled_back(settings, capsys)
    status = collect_status(settings, now=NOW)
    assert status.marts.rolled_back_from == "run-b" and status.needs_attention
    assert "BI READS A ROLLED-BACK VERSION" in render(status)
    main(["rollback", "--to", "run-b"])  # forward again: nothing to flag
    assert collect_status(settings, now=NOW).marts.rolled_back_from is None
