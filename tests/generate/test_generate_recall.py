"""The truth the generator plants for SPEC §11, recovered from the written files with DuckDB.

Measured on an 18-month run (scale 0.03, seed 3, 17 recall campaigns, the last one immature): recall outcomes computed
from the files the way the marts define them equal the generator's own counts exactly, and the
reactivation rates of each arm are within sampling error of the planted probabilities.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from growthops.generator import params as P

VALID = "('paid', 'shipped', 'delivered', 'partially_refunded')"
OUTCOMES = f"""
WITH valid_orders AS (
    SELECT contact_id, created_at FROM latest_orders WHERE status IN {VALID} AND contact_id IS NOT NULL
),
first_rows AS (
    SELECT * FROM messages WHERE purpose = 'recall'
    QUALIFY row_number() OVER (PARTITION BY campaign_id, contact_id ORDER BY sent_at, message_id) = 1
),
lapse AS (
    SELECT f.campaign_id, f.contact_id, f.is_holdout, f.sent_at, max(o.created_at) AS last_order
    FROM first_rows f LEFT JOIN valid_orders o ON o.contact_id = f.contact_id AND o.created_at < f.sent_at
    GROUP BY ALL
),
classified AS (
    SELECT *, coalesce(date_diff('day', last_order::DATE, sent_at::DATE) > {P.RECALL_LAPSED_DAYS}, false) AS is_lapsed
    FROM lapse
),
outcome AS (
    SELECT c.*, EXISTS (
        SELECT 1 FROM valid_orders o WHERE o.contact_id = c.contact_id AND o.created_at > c.sent_at
          AND o.created_at <= c.sent_at + INTERVAL {P.RECALL_WINDOW_DAYS} DAY
    ) AS reactivated
    FROM classified c
),
crossovers AS (
    SELECT f.campaign_id, count(DISTINCT f.contact_id) AS crossovers
    FROM first_rows f JOIN messages m ON m.campaign_id = f.campaign_id AND m.contact_id = f.contact_id
     AND m.is_holdout <> f.is_holdout AND m.message_id <> f.message_id
    GROUP BY 1
)
SELECT o.campaign_id,
       count(*) FILTER (WHERE is_lapsed AND NOT is_holdout) AS treated,
       count(*) FILTER (WHERE is_lapsed AND is_holdout) AS holdout,
       count(*) FILTER (WHERE NOT is_lapsed) AS excluded_not_lapsed,
       count(*) FILTER (WHERE is_lapsed AND NOT is_holdout AND reactivated) AS treated_reactivated,
       count(*) FILTER (WHERE is_lapsed AND is_holdout AND reactivated) AS holdout_reactivated,
       coalesce(any_value(x.crossovers), 0) AS crossovers
FROM outcome o LEFT JOIN crossovers x USING (campaign_id)
GROUP BY 1 ORDER BY 1
"""
KEYS = (
    "treated",
    "holdout",
    "excluded_not_lapsed",
    "treated_reactivated",
    "holdout_reactivated",
    "crossovers",
)


@pytest.fixture(scope="module")
def measured(recall_db) -> dict[str, dict[str, int]]:
    rows = recall_db.sql(OUTCOMES).fetchall()
    return {r[0]: dict(zip(KEYS, r[1:], strict=True)) for r in rows}


def test_recall_outcomes_from_the_files_equal_the_generator_counts(measured, recall_run):
    _landing, summary = recall_run
    campaigns = summary["recall_campaigns"]
    assert len(campaigns) == 17
    immature = [c for c in campaigns if not c["is_mature"]]  # its window is still open at the range end
    assert immature == [campaigns[-1]] and immature[0]["send_day"] == "2025-06-25"
    assert {c["campaign_id"] for c in campaigns} == set(measured)
    for c in campaigns:
        assert measured[c["campaign_id"]] == {k: c[k] for k in KEYS}, c["campaign_name"]
        assert c["window_days"] == 14 and c["lapsed_days"] == 90
        assert c["treated_rate"] == round(c["treated_reactivated"] / c["treated"], 6)
        assert c["expected_lift"] == round(c["p_treated"] - c["p_holdout"], 6)
    without_holdout = [c for c in campaigns if not c["has_holdout"]]
    assert len(without_holdout) == 4
    assert all(
        c["holdout"] == 0 and c["holdout_rate"] is None and c["crossovers"] == 0 for c in without_holdout
    )
    with_holdout = [c for c in campaigns if c["has_holdout"]]
    assert sum(c["crossovers"] for c in with_holdout) > 50
    assert all(c["excluded_not_lapsed"] >= c["unknown_contacts"] >= 1 for c in campaigns)
    assert sum(c["holdout"] for c in campaigns) > 1000 and sum(c["treated"] for c in campaigns) > 5000


def _pooled(campaigns: list[dict], arm: str) -> tuple[float, float, float]:
    """Observed rate, planted rate and standard error of the rate, pooled over campaigns."""
    n = sum(c[arm] for c in campaigns)
    hits = sum(c[f"{arm}_reactivated"] for c in campaigns)
    planted = sum(c[f"p_{arm}"] * c[arm] for c in campaigns) / n
    se = math.sqrt(sum(c[f"p_{arm}"] * (1 - c[f"p_{arm}"]) * c[arm] for c in campaigns)) / n
    return hits / n, planted, se


@pytest.mark.parametrize("label", ["We Miss You", "Comeback SMS", "App Nudge"])
def test_planted_lift_is_recovered_within_sampling_error(measured, recall_run, label):
    _landing, summary = recall_run
    # counts measured from the files, probabilities planted by the generator
    campaigns = [
        {**c, **measured[c["campaign_id"]]}
        for c in summary["recall_campaigns"]
        if c["campaign_name"].endswith(label) and c["is_mature"]
    ]
    assert len(campaigns) == 4
    template = next(t for t in P.RECALL_TEMPLATES if t["label"] == label)
    assert {c["p_treated"] for c in campaigns} == {template["p_treated"]}
    assert {c["p_holdout"] for c in campaigns} == {template["p_holdout"]}
    treated, planted_t, se_t = _pooled(campaigns, "treated")
    holdout, planted_h, se_h = _pooled(campaigns, "holdout")
    assert abs(treated - planted_t) < 3.5 * se_t, (treated, planted_t, se_t)
    assert abs(holdout - planted_h) < 3.5 * se_h, (holdout, planted_h, se_h)
    lift, planted_lift = treated - holdout, planted_t - planted_h
    se_lift = math.hypot(se_t, se_h)
    assert abs(lift - planted_lift) < 3.5 * se_lift
    if planted_lift >= 0.05:
        assert lift > 2 * se_lift  # a real lift shows up as one


def test_planted_orders_are_real_valid_orders_inside_the_window(recall_db, recall_run):
    _landing, summary = recall_run
    planted = sum(c["planted_orders"] for c in summary["recall_campaigns"])
    assert planted > 300
    # every treated or holdout reactivation is a valid order of the contact within 14 days of sent_at
    reactivated = sum(
        c["treated_reactivated"] + c["holdout_reactivated"] for c in summary["recall_campaigns"]
    )
    assert reactivated >= planted * 0.95


def test_customers_lapse_and_come_back(recall_db, recall_run):
    _landing, summary = recall_run
    resurrected, orders = recall_db.sql(
        f"""SELECT count(DISTINCT contact_id), count(*) FROM (
                SELECT contact_id, created_at::DATE - lag(created_at::DATE) OVER w AS gap
                FROM latest_orders WHERE status IN {VALID} AND contact_id IS NOT NULL
                WINDOW w AS (PARTITION BY contact_id ORDER BY created_at)) WHERE gap > 90"""
    ).fetchone()
    assert (resurrected, orders) == (
        summary["facts"]["resurrected_customers"],
        summary["facts"]["resurrection_orders"],
    )
    assert resurrected > 0.1 * summary["facts"]["customers"]


STAGE_RANK = "CASE lifecycle_stage WHEN 'lead' THEN 1 WHEN 'mql' THEN 2 WHEN 'sql' THEN 3 WHEN 'opportunity' THEN 4 WHEN 'customer' THEN 5 ELSE 0 END"


def test_stage_changes_spread_over_time(recall_db, recall_run):
    _landing, summary = recall_run
    facts = summary["facts"]
    changes, days, contacts, down = recall_db.sql(
        f"""SELECT count(*) FILTER (WHERE prev IS NOT NULL AND lifecycle_stage <> prev),
                   count(DISTINCT folder_day) FILTER (WHERE prev IS NOT NULL AND lifecycle_stage <> prev),
                   count(DISTINCT contact_id) FILTER (WHERE prev IS NOT NULL AND lifecycle_stage <> prev),
                   count(*) FILTER (WHERE rank < prev_rank)
            FROM (SELECT contact_id, folder_day, lifecycle_stage, {STAGE_RANK} AS rank,
                         lag(lifecycle_stage) OVER w AS prev, lag({STAGE_RANK}) OVER w AS prev_rank
                  FROM crm WINDOW w AS (PARTITION BY contact_id ORDER BY folder_day))"""
    ).fetchone()
    assert (changes, days, contacts) == (
        facts["crm_stage_changes"],
        facts["crm_stage_change_days"],
        facts["crm_contacts_with_stage_change"],
    )
    assert days >= 540 and changes > 0.5 * facts["contacts_in_crm"]
    assert down == 0  # stages only move up the ladder
    # each step of the ladder is seen on its own day for many contacts: velocity is measurable
    steps = dict(
        recall_db.sql(
            """SELECT a.lifecycle_stage || '>' || b.lifecycle_stage, count(*) FROM crm a JOIN crm b USING (contact_id)
               WHERE b.folder_day > a.folder_day AND b.updated_at > a.updated_at
                 AND (a.lifecycle_stage, b.lifecycle_stage) IN (('subscriber', 'lead'), ('lead', 'mql'),
                      ('mql', 'sql'), ('sql', 'opportunity'), ('mql', 'customer'), ('lead', 'customer'))
               GROUP BY 1"""
        ).fetchall()
    )
    assert min(steps.values()) > 50 and len(steps) == 6, steps


def test_costs_for_affiliate_and_email(recall_db, recall_run):
    _landing, summary = recall_run
    start = date.fromisoformat(summary["args"]["start"])
    totals = {}
    for channel, purpose, currency, amount in recall_db.sql(
        "SELECT channel, coalesce(purpose, 'acquisition'), currency, sum(amount) FROM costs GROUP BY ALL"
    ).fetchall():
        totals.setdefault(channel, {}).setdefault(purpose, {})[currency] = float(amount)
    assert totals == {k: v["totals"] for k, v in summary["costs"].items()}
    assert set(totals) == {"affiliate", "email"}
    assert set(totals["email"]) == {"acquisition", "retention"} and set(totals["affiliate"]) == {
        "acquisition"
    }
    first = dict(recall_db.sql("SELECT channel, min(date) FROM costs GROUP BY 1").fetchall())
    assert first["affiliate"] == start + timedelta(days=P.AFFILIATE_COSTS_START_DAY)  # unknown spend before
    assert first["email"] == start
    assert {k: v["first_day"] for k, v in summary["costs"].items()} == {
        k: d.isoformat() for k, d in first.items()
    }
    kinds = set(
        recall_db.sql(
            "SELECT channel, cost_type, purpose, campaign IS NULL FROM costs GROUP BY ALL"
        ).fetchall()
    )
    assert {("affiliate", "commission", "acquisition", False), ("affiliate", "tool", "acquisition", True),
            ("email", "media", "acquisition", False), ("email", "tool", "acquisition", True),
            ("email", "tool", "retention", True), ("email", "other", "retention", False)} == kinds  # fmt: skip
    # retention rows of email recall campaigns carry the campaign name; per-message costs add up
    incentives = dict(
        recall_db.sql(
            "SELECT campaign, sum(amount) FROM costs WHERE cost_type = 'other' GROUP BY 1"
        ).fetchall()
    )
    recall = summary["recall_campaigns"]
    assert incentives == {
        c["campaign_name"]: c["retention_cost"]["USD"] for c in recall if c["retention_cost"]
    }
    assert len(incentives) >= 8
    message_cost = dict(
        recall_db.sql(
            "SELECT campaign_id, sum(cost) FROM messages WHERE purpose = 'recall' GROUP BY 1"
        ).fetchall()
    )
    for c in recall:
        assert (message_cost[c["campaign_id"]] is None) == (c["message_cost"] is None), c["campaign_name"]
        if c["message_cost"] is not None:
            assert float(message_cost[c["campaign_id"]]) == pytest.approx(c["message_cost"], abs=1e-9)
            assert c["message_cost_currency"] == "USD"
    # affiliate campaigns are the utm_campaign values affiliate signups carry
    campaigns = {
        r[0]
        for r in recall_db.sql("SELECT DISTINCT campaign FROM costs WHERE channel = 'affiliate'").fetchall()
    }
    utm = {
        r[0]
        for r in recall_db.sql(
            "SELECT DISTINCT utm_campaign FROM crm WHERE utm_medium = 'affiliate'"
        ).fetchall()
    }
    assert campaigns - {None} == utm - {None} == {"partner-program", "creator-codes"}
