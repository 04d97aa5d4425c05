"""HTML assembly: sections (a chart beside the table of its numbers) into static pages.

Every table cell carries its exact value in ``data-value`` (``data-null`` when the mart says
null), every table ``data-table=<section>``, every chart ``data-figure=<section>`` with its spec in
a ``<script type="application/json">`` block; plotly.js is loaded from ``plotly.min.js`` beside the
page. Nothing refers to the network.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from typing import Any

from growthops.report.charts import Spec
from growthops.report.queries import Table

PLOTLY_JS = "plotly.min.js"

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2933; }
header { background: #1f2933; color: #fff; padding: 14px 28px; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header .meta { font-size: 13px; color: #cbd2d9; }
nav { background: #f0f4f8; padding: 8px 28px; border-bottom: 1px solid #d9e2ec; }
nav a { margin-right: 18px; color: #243b53; text-decoration: none; font-weight: 600; }
nav a.current { color: #0967d2; }
main { padding: 10px 28px 40px; max-width: 1400px; }
section { margin: 26px 0; }
section h2 { font-size: 17px; border-bottom: 1px solid #d9e2ec; padding-bottom: 4px; }
.intro { color: #52606d; font-size: 14px; max-width: 900px; }
.note { background: #fffbea; border-left: 4px solid #f0b429; padding: 10px 14px; font-size: 14px; }
.grid { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.chart { flex: 3 1 640px; min-width: 480px; }
.tablebox { flex: 2 1 420px; max-height: 620px; overflow: auto; }
table.data { border-collapse: collapse; font-size: 12px; }
table.data th, table.data td { border-bottom: 1px solid #e4e7eb; padding: 3px 8px; text-align: right; }
table.data th { position: sticky; top: 0; background: #f5f7fa; }
table.data td.text, table.data th.text { text-align: left; }
"""

RENDER_JS = """
document.querySelectorAll("div.chart[data-figure]").forEach(function (el) {
  var spec = JSON.parse(document.getElementById(el.id + "-spec").textContent);
  Plotly.newPlot(el, spec.data, spec.layout, {displaylogo: false, responsive: true}).then(function (gd) {
    el.setAttribute("data-rendered-traces", String(gd.data.length));
  });
});
"""


@dataclass
class Section:
    key: str  # anchor, data-table and data-figure name
    title: str
    intro: str = ""
    chart: Spec | None = None
    table: Table | None = None
    note: str | None = None  # shown instead of (or above) the content, e.g. "not published"
    extra_tables: list[tuple[str, str, Table]] = field(default_factory=list)  # (key, caption, table)


@dataclass
class Page:
    file_name: str
    title: str
    sections: list[Section]


def _data_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int | Decimal):
        return repr(float(value)) if isinstance(value, float | Decimal) else str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _display(column: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        value = float(value)
        if re.search(r"(^|_)rate(_|$)", column):
            return f"{value:.1%}"
        return f"{value:,.2f}"
    return str(value)


def render_table(key: str, table: Table) -> str:
    """An HTML table of ``table`` with exact values in data attributes."""
    text_cols = {
        c for c in table.columns if all(isinstance(v, str | dt.date) or v is None for v in table.column(c))
    }
    head = "".join(
        f'<th class="{"text" if c in text_cols else "num"}">{escape(c.replace("_", " "))}</th>'
        for c in table.columns
    )
    body = []
    for row in table.rows:
        cells = []
        for col, value in zip(table.columns, row, strict=True):
            null = ' data-null="true"' if value is None else ""
            cls = "text" if col in text_cols else "num"
            cells.append(
                f'<td class="{cls}" data-col="{escape(col)}" data-value="{escape(_data_value(value))}"{null}>'
                f"{escape(_display(col, value))}</td>"
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="data" data-table="{escape(key)}" data-rows="{len(table)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def render_chart(key: str, spec: Spec) -> str:
    payload = json.dumps(spec, separators=(",", ":"), default=str).replace("</", "<\\/")
    return (
        f'<div class="chart" id="chart-{escape(key)}" data-figure="{escape(key)}" '
        f'data-traces="{len(spec.get("data", []))}"></div>'
        f'<script type="application/json" id="chart-{escape(key)}-spec">{payload}</script>'
    )


def render_section(section: Section) -> str:
    parts = [f'<section id="{escape(section.key)}"><h2>{escape(section.title)}</h2>']
    if section.intro:
        parts.append(f'<p class="intro">{escape(section.intro)}</p>')
    if section.note:
        parts.append(f'<p class="note" data-note="{escape(section.key)}">{escape(section.note)}</p>')
    table = section.table if section.table is not None and len(section.table) else None
    if section.chart is not None or table is not None:
        parts.append('<div class="grid">')
        if section.chart is not None:
            parts.append(render_chart(section.key, section.chart))
        if table is not None:
            parts.append(f'<div class="tablebox">{render_table(section.key, section.table)}</div>')
        parts.append("</div>")
    for key, caption, table in section.extra_tables:
        parts.append(f'<h3>{escape(caption)}</h3><div class="tablebox">{render_table(key, table)}</div>')
    parts.append("</section>")
    return "\n".join(parts)


def render_page(page: Page, pages: list[Page], run_id: str, published_at: str) -> str:
    """A whole HTML page: header with the version, navigation between pages, the sections."""
    nav = "".join(
        f'<a href="{p.file_name}"{" class=current" if p is page else ""}>{escape(p.title)}</a>' for p in pages
    )
    toc = " · ".join(f'<a href="#{escape(s.key)}">{escape(s.title)}</a>' for s in page.sections)
    has_charts = any(s.chart is not None for s in page.sections)
    script = f'<script src="{PLOTLY_JS}"></script>' if has_charts else ""
    body = "\n".join(render_section(s) for s in page.sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>growthops — {escape(page.title)}</title>
<style>{CSS}</style>
{script}
</head>
<body data-run-id="{escape(run_id)}" data-published-at="{escape(published_at)}">
<header><h1>growthops growth report — {escape(page.title)}</h1>
<div class="meta">published version: run <code>{escape(run_id)}</code>, published {escape(published_at)} UTC.
Every number on these pages comes from the serving database of that version.</div></header>
<nav>{nav}</nav>
<main>
<p class="intro">{toc}</p>
{body}
</main>
{"<script>" + RENDER_JS + "</script>" if has_charts else ""}
</body>
</html>
"""
