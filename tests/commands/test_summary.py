"""The demo's printed summaries: numbers read from the marts, rates computed right, optional
operations sections only when their mart is published."""

from __future__ import annotations

import duckdb

from growthops.commands.summary import funnel_by_channel, funnel_stages, marts_summary, unit_economics


def _con(path=None):
    con = duckdb.connect(str(path) if path else ":memory:")
    con.execute("create schema marts")
    con.execute(
        "create table marts.mart_funnel_stages as select * from (values "
        "('2025-01-01'::date, 'email', 10, 4, 2, 1), ('2025-02-01'::date, 'email', 10, 6, 2, 0), "
        "('2025-01-01'::date, 'direct', 5, 0, 0, 0)"
        ") t(signup_month, channel, signups, engaged, customers, repeat_customers)"
    )
    return con


def test_funnel_stages_sums_months_and_computes_rates_null_on_zero_denominators():
    lines = funnel_stages(_con()).splitlines()
    email = next(line.split() for line in lines if line.startswith("email"))
    direct = next(line.split() for line in lines if line.startswith("direct"))
    # email: 20 signups, 10 engaged, 4 customers, 1 repeat -> 50.0%, 20.0%, 25.0%
    assert email == ["email", "20", "10", "4", "1", "50.0%", "20.0%", "25.0%"]
    # direct: no customers -> repeat rate is unknown, not 0
    assert direct == ["direct", "5", "0", "0", "0", "0.0%", "0.0%", "-"]


def test_summary_skips_operations_sections_whose_mart_is_not_published(tmp_path):
    path = tmp_path / "serving.duckdb"
    con = _con(path)
    con.execute(
        "create table marts.mart_channel_funnel_daily as select 'email' as channel, 10.0 as spend, "
        "3 as signups, 1 as new_customers, 20.0 as attributed_revenue"
    )
    con.execute(
        "create table marts.mart_cohort_retention as select '2025-01-01'::date as cohort_month, 'all' as channel, "
        "0 as months_since_first_order, 1 as cohort_size, 1.0 as retention_rate"
    )
    con.close()
    text = marts_summary(path, "USD")
    assert "Funnel stages" in text and "email" in text
    assert "Growth accounting" not in text and "Recall campaigns" not in text


def _rows_of(text: str) -> dict[str, list[str]]:
    """Data rows of a printed table by their first cell (header and rule lines left out)."""
    return {line.split()[0]: line.split()[1:] for line in text.splitlines()[2:]}


def test_funnel_by_channel_sums_days_with_cac_and_roas_per_channel():
    con = _con()
    con.execute(
        "create table marts.mart_channel_funnel_daily as select * from (values "
        "('google_ads', 100.0, 10, 4, 300.0), ('google_ads', 50.0, 5, 1, null), ('email', null, 7, 0, 80.0)"
        ") t(channel, spend, signups, new_customers, attributed_revenue)"
    )
    rows = _rows_of(funnel_by_channel(con, "EUR"))
    # google_ads: spend 150, 15 signups, 5 new customers -> CAC 30, ROAS 300 / 150 = 2
    assert rows == {
        "google_ads": ["150.00", "15", "5", "30.00", "2.00"],
        "email": ["-", "7", "0", "-", "-"],  # unknown spend, no new customers: CAC and ROAS unknown
    }
    assert list(rows) == ["google_ads", "email"]  # spend descending, unknown spend last


def test_unit_economics_cac_leaves_customers_of_unknown_spend_out_and_blended_comes_last():
    con = _con()
    con.execute(
        "create table marts.mart_acquisition_unit_economics as select * from (values "
        "('all', 120.0, 7, 1, 3), ('google_ads', 100.0, 5, 0, 2), ('google_ads', 0.0, 1, 1, null), "
        "('email', 20.0, 2, 0, 4)"
        ") t(channel, spend, new_customers, new_customers_unknown_spend, payback_month)"
    )
    rows = _rows_of(unit_economics(con))
    assert list(rows) == ["google_ads", "email", "all"]
    # google_ads: 100 spend over 6 - 1 customers of known spend = 20; best payback month 2
    assert rows["google_ads"] == ["100.00", "6", "20.00", "2"]
    assert rows["email"] == ["20.00", "2", "10.00", "4"]
    assert rows["all"] == ["120.00", "7", "20.00", "3"]
