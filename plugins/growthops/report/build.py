"""Build the report of one published version into ``<data>/reports/<run_id>/`` and refresh
``<data>/reports/latest/`` (only when the report is of the version being served).

The pages are built in memory, written into a ``.building`` folder, then swapped in with renames,
so a reader never sees half a report and a re-run gives byte-identical files.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from growthops.config import Settings
from growthops.logs import get_logger
from growthops.serve.publish import list_versions, read_publish_log, safe_run_id

log = get_logger(__name__)

LATEST = "latest"


class ReportError(RuntimeError):
    """Nothing to report on (no serving file, unknown run id)."""


@dataclass(frozen=True)
class ReportResult:
    run_id: str
    published_at: str
    source: Path  # the serving or version file read
    out_dir: Path
    latest_dir: Path | None
    files: dict[str, int]  # file name -> bytes
    seconds: float

    def summary(self) -> str:
        pages = [n for n in self.files if n.endswith(".html")]
        total = sum(self.files.values())
        lines = [
            f"report of run {self.run_id} (published {self.published_at} UTC) in {self.seconds:.1f}s",
            f"  {self.out_dir / 'index.html'}",
            f"  {len(pages)} pages: "
            + ", ".join(f"{n} {self.files[n] / 1024:,.0f} KiB" for n in pages)
            + f"; total {total / 1024 / 1024:,.1f} MiB with the embedded plotly.js",
        ]
        if self.latest_dir is not None:
            lines.append(f"  latest: {self.latest_dir / 'index.html'}")
        return "\n".join(lines)


def reports_dir(settings: Settings) -> Path:
    return settings.data_dir / "reports"


def _source_file(settings: Settings, run_id: str | None) -> tuple[Path, bool]:
    """The file holding ``run_id``'s version (default: the served one), and whether it is served."""
    serving = settings.serving_path
    served_rows = read_publish_log(serving) if serving.exists() else []
    if run_id is None or (served_rows and served_rows[-1]["run_id"] == run_id):
        if not served_rows:
            raise ReportError(
                f"nothing is published at {serving}: run `growthops backfill` (or the transform DAG) first"
            )
        return serving, True
    for path in reversed(list_versions(settings)):
        rows = read_publish_log(path)
        if rows and rows[-1]["run_id"] == run_id:
            return path, False
    kept = [r["run_id"] for r in served_rows]
    raise ReportError(f"no kept version of run {run_id!r}; runs in the served lineage: {', '.join(kept)}")


def render(source: Path, progress: Callable[[str], None]) -> tuple[str, str, dict[str, bytes]]:
    """(run_id, published_at, {file name: content}) of the report of ``source``."""
    from plotly.offline import get_plotlyjs

    from growthops.report.page import PLOTLY_JS, render_page
    from growthops.report.quality import published_run
    from growthops.report.queries import open_serving
    from growthops.report.sections import all_pages

    with open_serving(source) as con:
        run = published_run(con)
        if run is None:
            raise ReportError(f"{source} has no publish log: not a growthops serving file")
        progress(f"[report] reading the marts of run {run[0]}")
        pages = all_pages(con)
    files: dict[str, bytes] = {}
    for page in pages:
        charts = sum(s.chart is not None for s in page.sections)
        progress(f"[report] {page.file_name}: {len(page.sections)} sections, {charts} charts")
        files[page.file_name] = render_page(page, pages, *run).encode("utf-8")
    files[PLOTLY_JS] = get_plotlyjs().encode("utf-8")
    return run[0], run[1], files


def _swap_in(target: Path, files: dict[str, bytes]) -> None:
    """Replace folder ``target`` by one holding exactly ``files`` (renames; no half-written state)."""
    building = target.with_name(f".{target.name}.building")
    old = target.with_name(f".{target.name}.old")
    for leftover in (building, old):
        shutil.rmtree(leftover, ignore_errors=True)
    building.mkdir(parents=True)
    for name, content in files.items():
        (building / name).write_bytes(content)
    if target.exists():
        target.rename(old)
    building.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def build_report(
    settings: Settings,
    *,
    run_id: str | None = None,
    out: Path | None = None,
    progress: Callable[[str], None] = print,
) -> ReportResult:
    """Write the report of the served version (or of the kept version of ``run_id``).

    ``out``: the reports folder (default ``<data>/reports``); pages go to ``<out>/<run_id>/`` and,
    for the served version, to ``<out>/latest/`` too.
    """
    started = time.monotonic()
    source, served = _source_file(settings, run_id)
    found_run, published_at, files = render(source, progress)
    root = Path(out) if out is not None else reports_dir(settings)
    out_dir = root / safe_run_id(found_run)
    _swap_in(out_dir, files)
    latest = None
    if served:
        latest = root / LATEST
        _swap_in(latest, files)
    return ReportResult(
        run_id=found_run,
        published_at=published_at,
        source=source,
        out_dir=out_dir,
        latest_dir=latest,
        files={name: len(content) for name, content in files.items()},
        seconds=time.monotonic() - started,
    )


def report_after_publication(settings: Settings) -> ReportResult | None:
    """The step after a publication: the report of the version now served. A report that cannot
    be built is logged and returns None; it never fails the publication it follows."""
    try:
        result = build_report(settings, progress=log.info)
    except Exception as exc:  # the marts are published and correct; only the pages are missing
        log.warning("growth report not built (the publication stands): %s: %s", type(exc).__name__, exc)
        return None
    log.info("%s", result.summary())
    return result
