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


def chromium(profile: Path, url: str, *args: str, window: str = "1400,2600", budget_ms: int = 20000) -> str:
    """Run headless Chromium on ``url`` (``--dump-dom`` / ``--screenshot=…`` in ``args``); its stdout.

    ``budget_ms`` of virtual time lets plotly.js draw, or the Airflow UI fetch and render, first."""
    import subprocess

    cmd = [
        str(CHROMIUM),
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={window}",
        f"--virtual-time-budget={budget_ms}",
        *args,
        url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
