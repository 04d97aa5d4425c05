"""Live progress of the long commands: plain lines off a terminal, a rich live bar on one."""

from __future__ import annotations

import io
import logging
import re
import sys

from growthops.commands.progress import Progress, configure_logging


def _run(progress: Progress) -> None:
    with progress:
        progress("[ingest] orders 2025-01-01 .. 2025-01-31")
        progress("orders: chunk 1/2 (2025-01-01..2025-01-15, 15 files) in 0.1s — 100 rows so far")
        progress("[ingest] crm 2025-01-01 .. 2025-01-31")
        progress("[dbt] build")


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    progress = Progress("backfill", 3, file=out)
    assert progress.live is False  # a StringIO is not a terminal, like a CI log
    _run(progress)
    lines = out.getvalue().splitlines()
    assert [re.sub(r"^\[\s*\d+s\] ", "", line) for line in lines] == [
        "[ingest] orders 2025-01-01 .. 2025-01-31",
        "  orders: chunk 1/2 (2025-01-01..2025-01-15, 15 files) in 0.1s — 100 rows so far",
        "[ingest] crm 2025-01-01 .. 2025-01-31",
        "[dbt] build",
    ]
    assert all(re.match(r"^\[\s*\d+s\] ", line) for line in lines)
    assert "\x1b" not in out.getvalue()  # no control characters in a log file
    assert [step for step, _ in progress.done_steps] == [
        "[ingest] orders 2025-01-01 .. 2025-01-31",
        "[ingest] crm 2025-01-01 .. 2025-01-31",
        "[dbt] build",
    ]
    assert re.fullmatch(r"ingest \d+s, dbt \d+s", progress.timings())


def test_live_bar_on_a_terminal_prints_one_line_per_finished_step():
    out = io.StringIO()
    progress = Progress("backfill", 3, file=out, live=True)
    progress.console.force_terminal = True
    _run(progress)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    finished = re.findall(r"^(\[\w+\] .*?) — done \(\d+s\)$", text, flags=re.M)
    assert finished == [
        "[ingest] orders 2025-01-01 .. 2025-01-31",
        "[ingest] crm 2025-01-01 .. 2025-01-31",
        "[dbt] build",
    ]
    task = progress._bar.tasks[0] if progress._bar else None
    assert task is None  # the live bar is stopped (transient) when the command ends


def test_a_failed_step_is_marked_failed():
    out = io.StringIO()
    progress = Progress("replay", 2, file=out, live=True)
    progress.console.force_terminal = True
    try:
        with progress:
            progress("[dbt] build")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert "[dbt] build — FAILED (" in out.getvalue()


def test_verbose_shows_stage_and_dbt_info_lines(monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    for name in ("growthops", "dbt"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.getLogger(name).level)
    quiet, verbose = io.StringIO(), io.StringIO()
    configure_logging(False, quiet)
    logging.getLogger("growthops.loader").info("loaded 10 rows")
    logging.getLogger("growthops.loader").warning("1 row rejected")
    configure_logging(True, verbose)  # replaces the handler: one per process, however often a command runs
    assert len(root.handlers) == 1
    logging.getLogger("growthops.dbt").info("dbt model fct_orders: success")
    assert "loaded 10 rows" not in quiet.getvalue() and "1 row rejected" in quiet.getvalue()
    assert "fct_orders" not in quiet.getvalue()
    assert "dbt model fct_orders: success" in verbose.getvalue()


def test_the_default_handler_writes_to_stderr_as_it_is_now(monkeypatch):
    """A command run under a swapped stderr (a test's capture) must not leave the process logging into
    the closed old stream: later log lines go to the stderr of their moment, never "Logging error"."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging(False)
    logging.getLogger("growthops.loader").warning("while the first stderr was open")
    first.close()
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("growthops.loader").error("after it was closed")
    assert second.getvalue().endswith("ERROR growthops.loader: after it was closed\n")
    assert "Logging error" not in second.getvalue()


def test_live_line_shows_the_step_text_verbatim():
    from rich.console import Console

    progress = Progress("backfill", 3, file=io.StringIO(), live=True)
    progress.console.force_terminal = True
    with progress:
        progress("[dbt] build")
        progress("orders: chunk 2/9")
        console = Console(file=io.StringIO(), width=120)
        with console.capture() as captured:
            console.print(progress._bar.get_renderable())
    line = captured.get()
    assert "[dbt] build — orders: chunk 2/9" in line  # "[dbt]" is text, not rich markup
    assert re.search(r"0/3 0:00:0\d", line)
