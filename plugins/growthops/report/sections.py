"""What each page of the report holds: queries → charts + tables → sections.

Three pages: ``index.html`` (acquisition and conversion, SPEC §3), ``operations.html`` (growth
accounting, unit economics and recall lift, SPEC §11: each section only when its mart is in the
served version) and ``quality.html`` (publications, raw gate outcomes, rejects, quarantines).

A mart section is declared once (:class:`MartSection`: its query, chart and texts); a page is a
list of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from growthops.report import charts, queries
from growthops.report.charts import Spec
from growthops.report.page import Page, Section
from growthops.report.quality import data_quality
from growthops.report.queries import Table

NOT_PUBLISHED = "{mart} is not published in this version: this section appears once a publication carries it."


# What each mart section says above its chart, by section key.
INTROS = {
    "channel-funnel": "Spend, signups, new customers and attributed revenue per first-touch channel over "
    "the whole loaded period (organic channels have 0 spend; guest orders count as unattributed).",
    "cac-roas": "Per month and paid channel: CAC = spend / new customers, ROAS = attributed revenue "
    "/ spend (empty where the denominator is 0).",
    "cohort-retention": "Share of each month's new customers with a valid order N months later, all channels. "
    "One cell per cohort and elapsed month; months that have not happened yet are blank.",
    "funnel-stages": "Contacts by furthest stage reached, over all signup months; per channel in the table.",
    "growth-accounting": "Active customers per month split into new, retained and resurrected; churned "
    "customers below zero; quick ratio = (new + resurrected) / churned.",
    "unit-economics": "Blended CAC of each acquisition month against the revenue-based LTV of its customers "
    "after k months (empty while immature).",
    "recall-lift": "Per recall campaign: reactivations of treated contacts against the holdout, with "
    "the incremental effect and its 95 % interval.",
}

Chart = Callable[[Table, str], Spec | None]


@dataclass(frozen=True)
class MartSection:
    """One report section read from one mart, introduced by ``INTROS[key]``.

    ``chart`` gets the table and the reporting currency. Without the mart the section says so
    (titled ``missing_title``, default ``title``), unless ``when_missing`` is False (then it is left
    out). An empty table gets no chart unless ``chart_when_empty``, and shows ``empty_note``.
    """

    key: str
    title: str
    mart: str
    query: Callable[[duckdb.DuckDBPyConnection], Table | None]
    chart: Chart
    missing_title: str | None = None
    when_missing: bool = True
    chart_when_empty: bool = False
    empty_note: str | None = None

    def build(self, con: duckdb.DuckDBPyConnection, cur: str) -> Section | None:
        table = self.query(con)
        if table is None:
            if not self.when_missing:
                return None
            note = NOT_PUBLISHED.format(mart=f"marts.{self.mart}")
            return Section(key=self.key, title=self.missing_title or self.title, note=note)
        empty = not len(table)
        return Section(
            key=self.key,
            title=self.title,
            intro=INTROS[self.key],
            chart=None if empty and not self.chart_when_empty else self.chart(table, cur),
            table=table,
            note=self.empty_note if empty else None,
        )


def _no_currency(chart: Callable[[Table], Spec | None]) -> Chart:
    """A chart whose values carry no currency (counts, rates)."""
    return lambda table, _cur: chart(table)


# (key, title, mart, query, chart, ...): the cac-roas section is left out without its mart (the
# channel funnel section already says the mart is missing).
GROWTH_SECTIONS = (
    MartSection("channel-funnel", "Channel funnel", "mart_channel_funnel_daily", queries.channel_funnel,
                charts.channel_funnel, chart_when_empty=True),
    MartSection("cac-roas", "CAC and ROAS trends", "mart_channel_funnel_daily", queries.cac_roas_monthly,
                charts.cac_roas, when_missing=False, empty_note="No channel has spend in this version."),
    MartSection("cohort-retention", "Cohort retention", "mart_cohort_retention", queries.cohort_retention,
                _no_currency(charts.cohort_heatmap)),
    MartSection("funnel-stages", "Signup → engaged → customer → repeat", "mart_funnel_stages",
                queries.funnel_stages, _no_currency(charts.funnel_stages), missing_title="Signup funnel"),
)  # fmt: skip

OPERATIONS_SECTIONS = (
    MartSection("growth-accounting", "Growth accounting", "mart_customer_activity_monthly",
                queries.growth_accounting, _no_currency(charts.growth_accounting)),
    MartSection("unit-economics", "Acquisition unit economics", "mart_acquisition_unit_economics",
                queries.unit_economics, charts.unit_economics),
    MartSection("recall-lift", "Recall lift", "mart_recall_campaign_summary", queries.recall_summary,
                _no_currency(charts.recall_lift)),
)  # fmt: skip


def currency(con: duckdb.DuckDBPyConnection) -> str:
    """The reporting currency the marts are in (their ``reporting_currency`` column)."""
    if "reporting_currency" not in queries.columns_of(con, queries.MARTS, "mart_channel_funnel_daily"):
        return "reporting currency"
    row = con.execute(
        f"select any_value(reporting_currency) from {queries.MARTS}.mart_channel_funnel_daily"
    ).fetchone()
    return row[0] or "reporting currency"


def _mart_page(
    con: duckdb.DuckDBPyConnection, cur: str, file_name: str, title: str, specs: tuple[MartSection, ...]
) -> Page:
    sections = [spec.build(con, cur) for spec in specs]
    return Page(file_name, title, [s for s in sections if s is not None])


def growth_page(con: duckdb.DuckDBPyConnection, cur: str) -> Page:
    return _mart_page(con, cur, "index.html", "Growth", GROWTH_SECTIONS)


def operations_page(con: duckdb.DuckDBPyConnection, cur: str) -> Page:
    return _mart_page(con, cur, "operations.html", "Retention & recall", OPERATIONS_SECTIONS)


def _listing(key: str, title: str, intro: str, table: Table | None, empty_note: str) -> list[Section]:
    """A table-only section of the quality page (none where the publication lacks the table)."""
    if table is None:
        return []
    return [Section(key=key, title=title, intro=intro, table=table, note=None if len(table) else empty_note)]


def quality_page(con: duckdb.DuckDBPyConnection) -> Page:
    quality = data_quality(con)
    if quality is None:
        note = "This file has no publish log (meta.publish_log): it was not written by growthops publish."
        return Page("quality.html", "Data quality", [Section(key="runs", title="Publications", note=note)])
    runs = Section(
        key="runs",
        title="Publications and raw gate results",
        intro="Each publication passed the mart gate (a failing gate publishes nothing; its report is "
        "under runs/). Files are counted for the publication after which their load finished.",
        chart=charts.quality_runs(quality.runs) if quality.has_ledger and len(quality.runs) else None,
        table=quality.runs,
        note=None
        if quality.has_ledger
        else "This version carries no load ledger (published before meta.load_ledger existed).",
    )
    rejects = _listing(
        "rejects",
        "Rejected rows by rule",
        "Rows the raw gate rejected (good rows of those files were loaded).",
        quality.rejects,
        "No rejected rows in this version.",
    )
    refused = _listing(
        "quarantine",
        "Quarantined and failed files",
        "Files refused whole; is replaced = a corrected file for the same day was loaded later.",
        quality.refused,
        "Nothing was quarantined.",
    )
    return Page("quality.html", "Data quality", [runs, *rejects, *refused])


def all_pages(con: duckdb.DuckDBPyConnection) -> list[Page]:
    cur = currency(con)
    return [growth_page(con, cur), operations_page(con, cur), quality_page(con)]
