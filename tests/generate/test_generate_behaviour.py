"""Behaviour of the sample data, measured on a small run (scale 0.02, 120 days, seed 7)."""

from __future__ import annotations

from datetime import date

from growthops.generate import generate
from growthops.generator import params as P
from growthops.generator.simulate import make_calendar, make_campaigns


def one(db, sql: str):
    return db.sql(sql).fetchone()[0]


def test_status_changes_and_refunds_arrive_on_later_days(small_db):
    first_seen = "(SELECT order_id, min(folder_day) AS first_day FROM orders GROUP BY 1)"
    refunds_later = one(
        small_db,
        f"""SELECT count(*) FROM orders o JOIN {first_seen} f USING (order_id)
            WHERE o.status IN ('refunded', 'partially_refunded') AND o.folder_day > f.first_day""",
    )
    refunds_total = one(
        small_db, "SELECT count(*) FROM orders WHERE status IN ('refunded', 'partially_refunded')"
    )
    assert refunds_later == refunds_total > 50  # a refund is never the order's first appearance
    pending_then_paid = one(
        small_db,
        """SELECT count(*) FROM orders p JOIN orders q USING (order_id)
           WHERE p.status = 'pending' AND q.status = 'paid' AND q.folder_day > p.folder_day""",
    )
    assert pending_then_paid > 5
    assert one(small_db, "SELECT count(*) FROM latest_orders WHERE status = 'cancelled'") > 50
    # versions of one order: newer file -> newer updated_at; created_at and amounts never change
    assert (
        one(
            small_db,
            """SELECT count(*) FROM (
                SELECT order_id, folder_day, updated_at, created_at, gross_amount, discount_amount,
                       lag(updated_at) OVER w AS prev_updated, lag(created_at) OVER w AS prev_created,
                       lag(gross_amount) OVER w AS prev_gross, lag(discount_amount) OVER w AS prev_discount
                FROM orders WINDOW w AS (PARTITION BY order_id ORDER BY folder_day))
               WHERE prev_updated IS NOT NULL AND (updated_at <= prev_updated OR created_at <> prev_created
                     OR gross_amount <> prev_gross OR discount_amount <> prev_discount)""",
        )
        == 0
    )
    reexported = one(
        small_db, "SELECT count(*) FROM (SELECT order_id FROM orders GROUP BY 1 HAVING count(*) > 1)"
    )
    assert reexported > 0.5 * one(small_db, "SELECT count(DISTINCT order_id) FROM orders")


def test_crm_contacts_reexported_when_their_stage_changes(small_db):
    changed = one(
        small_db,
        """SELECT count(*) FROM crm a JOIN crm b USING (contact_id)
           WHERE b.folder_day > a.folder_day AND b.lifecycle_stage <> a.lifecycle_stage
             AND b.updated_at > a.updated_at AND b.created_at = a.created_at""",
    )
    assert changed > 300
    # the engaged stages come before the customer stage, never after it
    assert (
        one(
            small_db,
            """SELECT count(*) FROM crm a JOIN crm b USING (contact_id)
               WHERE a.lifecycle_stage = 'customer' AND b.folder_day > a.folder_day AND b.lifecycle_stage <> 'customer'""",
        )
        == 0
    )
    # erasure: the contact stays, flagged, without its email
    erased = small_db.sql("SELECT count(*), count(email) FROM crm WHERE is_deleted").fetchone()
    assert erased[1] == 0


def test_restated_channel_days(small_db):
    restated = small_db.sql(
        """SELECT r.platform, count(*) AS n,
                  count(*) FILTER (WHERE r.spend <> o.spend OR r.clicks <> o.clicks OR r.impressions <> o.impressions)
           FROM channel r JOIN channel o ON o.date = r.date AND o.platform = r.platform
                AND o.campaign_id = r.campaign_id AND o.folder_day = o.date
           WHERE r.folder_day > r.date GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    assert [p for p, _n, _c in restated] == ["google_ads", "meta_ads", "tiktok_ads"]
    for platform, n, changed in restated:
        assert changed >= 0.9 * n > 0, platform
    lags = {r[0] for r in small_db.sql("SELECT DISTINCT folder_day - date FROM channel").fetchall()}
    assert lags == set(range(P.RESTATE_MAX_LAG + 1))


CAC_SQL = """
WITH keys AS (SELECT DISTINCT platform, lower(trim(campaign_name)) AS campaign_key FROM latest_channel),
spend AS (
    SELECT c.platform, sum(c.spend * fx.usd_rate) AS spend_usd
    FROM latest_channel c ASOF JOIN fx ON fx.currency = c.currency AND fx.date <= c.date GROUP BY 1),
first_orders AS (
    SELECT contact_id FROM latest_orders
    WHERE status IN ('paid', 'shipped', 'delivered', 'partially_refunded') AND contact_id IS NOT NULL
    GROUP BY 1),
customers AS (
    SELECT keys.platform, count(*) AS n FROM first_orders
    JOIN latest_contacts USING (contact_id) JOIN keys ON keys.campaign_key = latest_contacts.utm_campaign
    GROUP BY 1)
SELECT platform, spend_usd / n FROM spend JOIN customers USING (platform) ORDER BY 1
"""


def test_cac_differs_by_platform(small_db):
    cac = dict(small_db.sql(CAC_SQL).fetchall())
    assert set(cac) == {"google_ads", "meta_ads", "tiktok_ads"}
    assert cac["google_ads"] < cac["meta_ads"] < cac["tiktok_ads"]
    assert cac["tiktok_ads"] > 1.5 * cac["google_ads"]
    assert all(10 < v < 500 for v in cac.values())


def test_guest_orders_and_orders_of_contacts_unknown_to_crm(small_db, small_run):
    _landing, summary = small_run
    orders = one(small_db, "SELECT count(*) FROM latest_orders")
    guests = one(small_db, "SELECT count(*) FROM latest_orders WHERE contact_id IS NULL")
    assert 0.03 < guests / orders < 0.12
    unknown = one(
        small_db,
        "SELECT count(*) FROM latest_orders WHERE contact_id IS NOT NULL "
        "AND contact_id NOT IN (SELECT contact_id FROM crm)",
    )
    assert unknown > 0
    assert unknown == summary["facts"]["orders_of_contacts_unknown_to_crm"]
    assert guests == summary["facts"]["guest_orders"]
    assert orders == summary["facts"]["orders"]


def test_weekly_seasonality_visible(small_db):
    by_dow = dict(
        small_db.sql("SELECT isodow(created_at), count(*) FROM latest_orders GROUP BY 1").fetchall()
    )
    assert by_dow[1] > 1.15 * by_dow[6]  # Monday vs Saturday
    # search delivery is weekday-heavy, social leans to the weekend
    clicks = dict(
        small_db.sql(
            "SELECT platform || isodow(date), sum(clicks) FROM latest_channel "
            "WHERE platform IN ('google_ads', 'tiktok_ads') GROUP BY 1"
        ).fetchall()
    )
    assert clicks["google_ads1"] > 1.15 * clicks["google_ads6"]
    assert clicks["tiktok_ads6"] > clicks["tiktok_ads1"]


def test_repeat_customers_and_churn(small_db):
    per_customer = small_db.sql(
        """SELECT count(*) FILTER (WHERE n >= 2), count(*), count(*) FILTER (WHERE n >= 2 AND last_order < DATE '2025-03-15')
           FROM (SELECT contact_id, count(*) AS n, max(created_at)::DATE AS last_order FROM latest_orders
                 WHERE contact_id IS NOT NULL AND status <> 'cancelled' GROUP BY 1)"""
    ).fetchone()
    repeat, customers, churned_repeaters = per_customer
    assert customers > 500
    assert 0.3 < repeat / customers < 0.95
    assert churned_repeaters > 10  # bought again, then stopped for 6+ weeks before the end


def test_signup_volume_follows_scale(small_run):
    _landing, summary = small_run
    days = summary["days"]
    per_day = summary["facts"]["signups"] / days
    nominal = P.CONTACTS_AT_SCALE_1 / 1096 * summary["args"]["scale"]
    assert 0.75 * nominal < per_day < 1.3 * nominal


def test_campaign_counts_scale_with_minimum_per_platform():
    import numpy as np

    full = make_campaigns(np.random.default_rng(1), make_calendar(P.REFERENCE_START, P.REFERENCE_END), 1.0)
    assert len(full) == P.CAMPAIGNS_AT_SCALE_1
    tiny = make_campaigns(np.random.default_rng(1), make_calendar(date(2025, 1, 1), date(2025, 1, 31)), 0.001)
    assert np.bincount(tiny.platform).tolist() == [P.MIN_CAMPAIGNS_PER_PLATFORM] * len(P.PLATFORMS)
    assert len(set(full.keys)) == len(full)


def test_tiny_scale_is_still_realistic(tmp_path):
    summary = generate(
        tmp_path / "landing", start=date(2025, 1, 1), end=date(2025, 3, 31), scale=0.001, seed=5
    )
    facts = summary["facts"]
    assert facts["campaigns"] == 9
    assert facts["signups"] > 50 and facts["customers"] > 10 and facts["orders"] > facts["customers"]
    assert summary["totals"]["channel"] >= 3 * 90  # evergreen campaigns report every day
