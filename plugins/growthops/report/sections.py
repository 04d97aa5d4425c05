"""What each page of the report holds: queries → charts + tables → sections.

Three pages: ``index.html`` (acquisition and conversion, SPEC §3), ``operations.html`` (growth
accounting, unit economics and recall lift, SPEC §11: each section only when its mart is in the
served version) and ``quality.html`` (publications, raw gate outcomes, rejects, quarantines).
"""

from __future__ import annotations

import duckdb

from growthops.report import charts, queries
from growthops.report.page import Page, Section
from growthops.report.quality import data_quality

NOT_PUBLISHED = "{mart} is not published in this version: this section appears once a publication carries it."


def _missing(key: str, title: str, mart: str) -> Section:
    return Section(key=key, title=title, note=NOT_PUBLISHED.format(mart=f"marts.{mart}"))


def currency(con: duckdb.DuckDBPyConnection) -> str:
    """The reporting currency the marts are in (their ``reporting_currency`` column)."""
    if "reporting_currency" not in queries.columns_of(con, queries.MARTS, "mart_channel_funnel_daily"):
        return "reporting currency"
    row = con.execute(
        f"select any_value(reporting_currency) from {queries.MARTS}.mart_channel_funnel_daily"
    ).fetchone()
    return row[0] or "reporting currency"


def growth_page(con: duckdb.DuckDBPyConnection, cur: str) -> Page:
    sections = []
    funnel = queries.channel_funnel(con)
    if funnel is None:
        sections.append(_missing("channel-funnel", "Channel funnel", "mart_channel_funnel_daily"))
    else:
        sections.append(
            Section(
                key="channel-funnel",
                title="Channel funnel",
                intro="Spend, signups, new customers and attributed revenue per first-touch channel over "
                "the whole loaded period (organic channels have 0 spend; guest orders count as unattributed).",
                chart=charts.channel_funnel(funnel, cur),
                table=funnel,
            )
        )
    trend = queries.cac_roas_monthly(con)
    if trend is not None:
        sections.append(
            Section(
                key="cac-roas",
                title="CAC and ROAS trends",
                intro="Per month and paid channel: CAC = spend / new customers, ROAS = attributed revenue "
                "/ spend (empty where the denominator is 0).",
                chart=charts.cac_roas(trend, cur) if len(trend) else None,
                table=trend,
                note=None if len(trend) else "No channel has spend in this version.",
            )
        )
    cohorts = queries.cohort_retention(con)
    if cohorts is None:
        sections.append(_missing("cohort-retention", "Cohort retention", "mart_cohort_retention"))
    else:
        sections.append(
            Section(
                key="cohort-retention",
                title="Cohort retention",
                intro="Share of each month's new customers with a valid order N months later, all channels. "
                "One cell per cohort and elapsed month; months that have not happened yet are blank.",
                chart=charts.cohort_heatmap(cohorts) if len(cohorts) else None,
                table=cohorts,
            )
        )
    stages = queries.funnel_stages(con)
    if stages is None:
        sections.append(_missing("funnel-stages", "Signup funnel", "mart_funnel_stages"))
    else:
        sections.append(
            Section(
                key="funnel-stages",
                title="Signup → engaged → customer → repeat",
                intro="Contacts by furthest stage reached, over all signup months; per channel in the table.",
                chart=charts.funnel_stages(stages) if len(stages) else None,
                table=stages,
            )
        )
    return Page("index.html", "Growth", sections)


def operations_page(con: duckdb.DuckDBPyConnection, cur: str) -> Page:
    sections = []
    growth = queries.growth_accounting(con)
    if growth is None:
        sections.append(_missing("growth-accounting", "Growth accounting", "mart_customer_activity_monthly"))
    else:
        sections.append(
            Section(
                key="growth-accounting",
                title="Growth accounting",
                intro="Active customers per month split into new, retained and resurrected; churned "
                "customers below zero; quick ratio = (new + resurrected) / churned.",
                chart=charts.growth_accounting(growth) if len(growth) else None,
                table=growth,
            )
        )
    economics = queries.unit_economics(con)
    if economics is None:
        sections.append(
            _missing("unit-economics", "Acquisition unit economics", "mart_acquisition_unit_economics")
        )
    else:
        sections.append(
            Section(
                key="unit-economics",
                title="Acquisition unit economics",
                intro="Blended CAC of each acquisition month against the revenue-based LTV of its customers "
                "after k months (empty while immature).",
                chart=charts.unit_economics(economics, cur) if len(economics) else None,
                table=economics,
            )
        )
    recall = queries.recall_summary(con)
    if recall is None:
        sections.append(_missing("recall-lift", "Recall lift", "mart_recall_campaign_summary"))
    else:
        sections.append(
            Section(
                key="recall-lift",
                title="Recall lift",
                intro="Per recall campaign: reactivations of treated contacts against the holdout, with "
                "the incremental effect and its 95 % interval.",
                chart=charts.recall_lift(recall) if len(recall) else None,
                table=recall,
            )
        )
    return Page("operations.html", "Retention & recall", sections)


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
    sections = [runs]
    if quality.rejects is not None:
        sections.append(
            Section(
                key="rejects",
                title="Rejected rows by rule",
                intro="Rows the raw gate rejected (good rows of those files were loaded).",
                table=quality.rejects,
                note=None if len(quality.rejects) else "No rejected rows in this version.",
            )
        )
    if quality.refused is not None:
        sections.append(
            Section(
                key="quarantine",
                title="Quarantined and failed files",
                intro="Files refused whole; is replaced = a corrected file for the same day was loaded later.",
                table=quality.refused,
                note=None if len(quality.refused) else "Nothing was quarantined.",
            )
        )
    return Page("quality.html", "Data quality", sections)


def all_pages(con: duckdb.DuckDBPyConnection) -> list[Page]:
    cur = currency(con)
    return [growth_page(con, cur), operations_page(con, cur), quality_page(con)]
