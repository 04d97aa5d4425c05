"""The report's SQL on a hand-made serving file: a section without its table yields None, and the
channel figures (CAC, ROAS, unknown spend) are the SPEC §3 definitions."""

from __future__ import annotations

import duckdb
import pytest

from growthops.report import queries
from growthops.report.quality import data_quality


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema marts; create schema meta")
    con.execute(
        """
        create table marts.mart_channel_funnel_daily as select * from (values
            (date '2025-01-01', 'google_ads', 100.00::decimal(18,2), 10, 4, 300.00::decimal(18,2)),
            (date '2025-01-02', 'google_ads', 50.00::decimal(18,2), 5, 1, null),
            (date '2025-02-01', 'google_ads', 0.00::decimal(18,2), 2, 0, null),
            (date '2025-01-01', 'email', null, 7, 2, 80.00::decimal(18,2))
        ) as t(report_date, channel, spend, signups, new_customers, attributed_revenue)
        """
    )
    yield con
    con.close()


def test_a_query_over_a_missing_table_yields_none(con):
    assert queries.cohort_retention(con) is None
    assert queries.funnel_stages(con) is None
    assert data_quality(con) is None  # no meta.publish_log


def test_channel_funnel_sums_per_channel_with_cac_and_roas(con):
    table = queries.channel_funnel(con)
    assert table.columns == ["channel", "spend", "signups", "new_customers", "revenue", "cac", "roas"]
    assert table.records() == [
        {
            "channel": "google_ads",
            "spend": 150.0,
            "signups": 17,
            "new_customers": 5,
            "revenue": 300.0,
            "cac": 30.0,
            "roas": 2.0,
        },
        {
            "channel": "email",
            "spend": None,
            "signups": 7,
            "new_customers": 2,
            "revenue": 80.0,
            "cac": None,
            "roas": None,
        },
    ]


def test_cac_roas_is_per_month_of_channels_with_spend(con):
    table = queries.cac_roas_monthly(con)
    assert [(str(r["month"]), r["channel"], r["cac"], r["roas"]) for r in table.records()] == [
        ("2025-01-01", "google_ads", 30.0, 2.0)
    ]
