"""The report as a person sees it: headless Chromium opens the pages from disk (offline), plotly.js
draws every chart, and the rendered DOM has one bar per channel and one heatmap cell per cohort x
period. Screenshots go to the test's tmp folder. Needs Debian's chromium (skipped without it)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from report_helpers import CHROMIUM, chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
]


def _chromium(tmp_path: Path, page: Path, *args: str) -> str:
    return chromium(tmp_path / "chromium-profile", page.as_uri(), *args)


def _charts(dom: str) -> dict[str, tuple[dict[str, str], str]]:
    """Chart id -> (attributes of its div, the DOM up to the next chart)."""
    starts = list(re.finditer(r'<div class="chart[^"]*"([^>]*)>', dom))
    out = {}
    for i, m in enumerate(starts):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
        end = starts[i + 1].start() if i + 1 < len(starts) else len(dom)
        out[attrs["data-figure"]] = (attrs, dom[m.end() : end])
    return out


def test_pages_render_their_charts_in_chromium(served, tmp_path):
    latest = served.data_dir / "reports" / "latest"
    con = duckdb.connect(str(served.serving_path), read_only=True)
    channels = con.execute("select count(distinct channel) from marts.mart_channel_funnel_daily").fetchone()[
        0
    ]
    cells = con.execute("select count(*) from marts.mart_cohort_retention where channel = 'all'").fetchone()[
        0
    ]
    con.close()

    charts = _charts(_chromium(tmp_path, latest / "index.html", "--dump-dom"))
    assert set(charts) == {"channel-funnel", "cac-roas", "cohort-retention", "funnel-stages"}
    for attrs, _ in charts.values():  # plotly.js drew every trace of every chart
        assert attrs.get("data-rendered-traces") == attrs["data-traces"], attrs
    funnel = charts["channel-funnel"][1]
    assert funnel.count('class="trace bars"') == 4
    assert funnel.count('class="point"') == 4 * channels  # one bar per channel in each panel
    assert charts["cohort-retention"][1].count('class="heatmap-label"') == cells

    quality = _charts(_chromium(tmp_path, latest / "quality.html", "--dump-dom"))
    attrs, dom = quality["runs"]
    assert attrs.get("data-rendered-traces") == "5" and dom.count('class="trace bars"') == 4

    shots = tmp_path / "screenshots"
    shots.mkdir()
    for name in ("index", "operations", "quality"):
        shot = shots / f"{name}.png"
        _chromium(tmp_path, latest / f"{name}.html", f"--screenshot={shot}")
        assert shot.stat().st_size > 10_000
