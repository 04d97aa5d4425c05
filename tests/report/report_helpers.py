"""Reading the report's pages in tests: tables (exact values), chart specs, notes, references."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path


class PageParser(HTMLParser):
    """Collects tables (data-value of every cell), chart specs and external references."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[dict[str, str | None]]] = {}
        self.specs: dict[str, str] = {}
        self.notes: list[str] = []
        self.refs: list[tuple[str, str]] = []  # (tag, src/href)
        self._table: str | None = None
        self._row: dict[str, str | None] | None = None
        self._spec: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if a.get(key):
                self.refs.append((tag, a[key]))
        if tag == "table" and "data-table" in a:
            self._table = a["data-table"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = {}
        elif tag == "td" and self._row is not None:
            self._row[a["data-col"]] = None if a.get("data-null") == "true" else a["data-value"]
        elif tag == "script" and a.get("type") == "application/json":
            self._spec = a["id"].removeprefix("chart-").removesuffix("-spec")
            self.specs[self._spec] = ""
        elif tag == "p" and "data-note" in a:
            self.notes.append(a["data-note"])

    def handle_endtag(self, tag):
        if tag == "tr" and self._row:
            self.tables[self._table].append(self._row)
        if tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "script":
            self._spec = None

    def handle_data(self, data):
        if self._spec is not None:
            self.specs[self._spec] += data


def parse_page(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


CHROMIUM = Path("/usr/bin/chromium")


def chromium(
    profile: Path,
    url: str,
    *args: str,
    window: str = "1400,2600",
    budget_ms: int = 20000,
    attempts: int = 2,
    timeout_s: int = 150,
) -> str:
    """Run headless Chromium on ``url`` (``--dump-dom`` / ``--screenshot=…`` in ``args``); its stdout.

    ``budget_ms`` of virtual time lets plotly.js draw, or the Airflow UI fetch and render, first.
    Now and then headless Chromium never leaves a page that keeps polling (the Airflow UI) and
    does not exit: after ``timeout_s`` its whole process group is killed and it starts again,
    with a fresh profile, up to ``attempts`` times (a browser hang, not a finding of the test)."""
    import os
    import signal
    import subprocess

    import pytest

    for attempt in range(attempts):
        cmd = [
            str(CHROMIUM),
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--user-data-dir={profile}-{attempt}",
            f"--window-size={window}",
            f"--virtual-time-budget={budget_ms}",
            *args,
            url,
        ]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the browser and its renderer/GPU children
            proc.communicate()
            continue
        assert proc.returncode == 0, err[-2000:]
        return out
    pytest.fail(f"headless Chromium did not finish {url} in {attempts} tries of {timeout_s} s")
