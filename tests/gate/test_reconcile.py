"""Mart gate, SQL reconciliations against the raw tables: each fails on a tampered mart row, with
observed against expected and sample rows; currencies, fx, rounding, timezone.

The build DB is the hand-made one of conftest.py (its docstring has the hand computation).
"""

from __future__ import annotations

import pytest
from gate_checks import FUNNEL_REVENUE, FX, KEYS, NET_REVENUE, SPEND, check_named

from growthops.gate.mart_gate import run_mart_gate


@pytest.mark.parametrize(
    ("tamper", "name", "observed", "expected", "sample"),
    [
        (
            "update marts.mart_channel_funnel_daily set spend = 101 where report_date = '2025-01-02' and channel = 'google_ads'",
            SPEND,
            258.5,
            257.5,
            {"day": "2025-01-02", "mart_spend": 156.0, "raw_spend": 155.0, "difference": 1.0},
        ),
        (  # the restated (newer) file was ignored
            "update marts.mart_channel_funnel_daily set spend = 80 where report_date = '2025-01-03' and channel = 'google_ads'",
            SPEND,
            247.5,
            257.5,
            {"day": "2025-01-03", "mart_spend": 92.5, "raw_spend": 102.5, "difference": -10.0},
        ),
        (  # converted with the superseded EUR rate 1.20 instead of the restated 1.25
            "update marts.mart_channel_funnel_daily set spend = 12 where report_date = '2025-01-03' and channel = 'meta_ads'",
            SPEND,
            257.0,
            257.5,
            {"day": "2025-01-03", "mart_spend": 102.0, "raw_spend": 102.5, "difference": -0.5},
        ),
        (
            "update marts.fct_orders set net_revenue = 60 where order_id = 'o2'",
            NET_REVENUE,
            155.0,
            150.0,
            {"order_id": "o2", "mart_net_revenue": 60.0, "raw_net_revenue": 55.0, "difference": 5.0},
        ),
        (  # an older version of o1 (before the partial refund)
            "update marts.fct_orders set net_revenue = 90, status = 'paid' where order_id = 'o1'",
            NET_REVENUE,
            170.0,
            150.0,
            {"order_id": "o1", "mart_status": "paid", "raw_status": "partially_refunded"},
        ),
        (
            "update marts.mart_channel_funnel_daily set attributed_revenue = 69 where report_date = '2025-01-02' and channel = 'google_ads'",
            FUNNEL_REVENUE,
            149.0,
            150.0,
            {"day": "2025-01-02", "mart_attributed_revenue": 124.0, "raw_net_revenue": 125.0},
        ),
        (
            "delete from marts.fct_orders where order_id = 'o3'",
            KEYS,
            {"missing": 1, "duplicated": 0, "not_in_raw": 0},
            None,
            {
                "problem": "missing from fct_orders",
                "order_id": "o3",
                "source_file": "orders/2025-01-03/orders.csv",
                "source_line": 3,
            },
        ),
        (
            "insert into marts.fct_orders select * from marts.fct_orders where order_id = 'o4'",
            KEYS,
            {"missing": 0, "duplicated": 1, "not_in_raw": 0},
            None,
            {"problem": "duplicated in fct_orders", "order_id": "o4", "times_in_mart": 2},
        ),
        (
            "insert into marts.fct_orders select 'o99', customer_id, order_date, status, is_valid, false, 0, channel, campaign, source_batch_id from marts.fct_orders where order_id = 'o4'",
            KEYS,
            {"missing": 0, "duplicated": 0, "not_in_raw": 1},
            None,
            {"problem": "not in raw orders", "order_id": "o99"},
        ),
    ],
    ids=[
        "spend",
        "spend-restated-day",
        "spend-restated-rate",
        "order-revenue",
        "order-old-version",
        "funnel-revenue",
        "key-missing",
        "key-duplicated",
        "key-not-in-raw",
    ],
)
def test_each_reconciliation_fails_when_a_mart_row_is_tampered(
    settings, con, tiny_suite, tamper, name, observed, expected, sample
):
    con.execute(tamper)
    result = run_mart_gate(settings, con, suite_path=tiny_suite)
    assert result.status == "data_failed"
    check = check_named(result, name)
    assert not check.passed and check.error is None
    assert check.observed == observed
    if expected is not None:
        assert check.expected == expected
        assert f"observed {observed:,.4f}, expected {expected:,.4f}" in result.message()
    first = check.sample_rows[0]
    assert {k: first[k] for k in sample} == sample


def test_currency_without_rate_fails_and_is_named(settings, con, tiny_suite):
    con.execute(
        "insert into raw.shop_orders (order_id, contact_id, created_at, updated_at, status, currency, gross_amount, "
        "discount_amount, refund_amount, _batch_id, _batch_day, _source_file, _source_line, _loaded_at) values "
        "('o6', 'k1', '2025-01-03 11:00', '2025-01-03 11:00', 'paid', 'JPY', 1000, 0, 0, 'or:d3', '2025-01-03', "
        "'orders/2025-01-03/orders.csv', 6, '2025-01-04 01:00')"
    )
    con.execute(
        "insert into marts.fct_orders values ('o6', 'k1', date '2025-01-03', 'paid', true, false, null, 'google_ads', 'brand', 'or:d3')"
    )
    result = run_mart_gate(settings, con, suite_path=tiny_suite)
    check = check_named(result, FX)
    assert not check.passed
    assert check.observed == "1 latest raw rows without a rate (['JPY'])"
    assert check.sample_rows == [
        {
            "source": "orders",
            "day": "2025-01-03",
            "currency": "JPY",
            "rows": 1,
            "source_file": "orders/2025-01-03/orders.csv",
            "source_line": 6,
        }
    ]
    # the order is in fct_orders with a null net revenue: the other checks agree it is not reconciled
    assert not check_named(result, FUNNEL_REVENUE).passed


def test_fx_rate_before_first_rate_is_missing_not_one(settings, con, tiny_suite):
    con.execute("update raw.fx_rates set date = '2025-01-05' where currency = 'GBP'")
    result = run_mart_gate(settings, con, suite_path=tiny_suite)
    fx = check_named(result, FX)
    assert not fx.passed
    assert fx.observed == "2 latest raw rows without a rate (['GBP'])"


@pytest.mark.parametrize(("mart_value", "passes"), [(36.6666, True), (36.6667, True), (36.6676, False)])
def test_rounding_to_four_decimals_is_tolerated_but_not_more(settings, con, tiny_suite, mart_value, passes):
    # 33.3333 EUR x 1.10 = 36.66663 USD
    con.execute(
        "insert into raw.channel_performance (date, platform, campaign_id, campaign_name, impressions, clicks, spend, "
        "currency, _batch_id, _batch_day, _source_file, _source_line, _loaded_at) values "
        "('2025-01-02', 'meta_ads', 'm2', 'Other', 10, 1, 33.3333, 'EUR', 'ch:d2m', '2025-01-02', "
        "'channel/2025-01-02/meta_ads.csv', 3, '2025-01-03 01:00')"
    )
    con.execute(
        f"insert into marts.mart_channel_funnel_daily values (date '2025-01-02', 'meta_ads', 'other', {mart_value}, "
        "10, 1, 0, 0, 0, 0, 0.1, null, null, null, 0)"
    )
    result = run_mart_gate(settings, con, suite_path=tiny_suite)
    assert check_named(result, SPEND).passed is passes
    assert result.passed is passes


def test_order_days_follow_the_reporting_timezone(con, tiny_suite, monkeypatch, tmp_path):
    """o2 (2025-01-02 23:30 UTC) is 2025-01-03 in Tokyo, where EUR is at the restated 1.25: 62.50."""
    from growthops.config import load_settings

    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("GROWTHOPS_REPORTING_TIMEZONE", "Asia/Tokyo")
    result = run_mart_gate(load_settings(), con, suite_path=tiny_suite)
    check = check_named(result, NET_REVENUE)
    assert not check.passed
    assert check.expected == 157.5
    assert check.sample_rows[0]["order_id"] == "o2"
    assert check.sample_rows[0]["raw_net_revenue"] == 62.5
    funnel = check_named(result, FUNNEL_REVENUE)
    assert {r["day"]: r["raw_net_revenue"] for r in funnel.sample_rows} == {
        "2025-01-02": 70.0,
        "2025-01-03": 87.5,
    }


def test_reporting_currency_other_than_usd(con, tiny_suite, monkeypatch, tmp_path):
    """In EUR: 100 USD on 2025-01-02 is 100 / 1.10; the marts (in USD) no longer reconcile."""
    from growthops.config import load_settings

    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("GROWTHOPS_REPORTING_CURRENCY", "EUR")
    result = run_mart_gate(load_settings(), con, suite_path=tiny_suite)
    spend = check_named(result, SPEND)
    # 2025-01-02: 100/1.1 + 50 ; 2025-01-03: 90/1.25 + 10
    assert spend.expected == round(100 / 1.1 + 50 + 90 / 1.25 + 10, 4)
    assert not spend.passed
