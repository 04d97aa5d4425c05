"""The demo's printed summaries: numbers read from the marts, rates computed right, optional
operations sections only when their mart is published."""

from __future__ import annotations

import duckdb

from growthops.commands.summary import funnel_stages, marts_summary


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
