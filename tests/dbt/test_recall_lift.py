"""The recall marts recover the truth the generator planted (SPEC §11).

The generator writes recall campaigns to lapsed customers with a holdout and a planted
reactivation probability per arm, and records per campaign (``_generated.json``,
``recall_campaigns``) its own counts and the planted lift ``p_treated - p_holdout``. One
18-month landing (``recall_warehouse`` in conftest.py: scale 0.03, 17 campaigns, 6 of them with
>= 100 contacts in each arm) goes through the ingestion (raw gate included) and ``dbt build`` of the
recall marts. Then:

* the mart's counts equal the generator's exactly: targeted, holdout, excluded_not_lapsed,
  crossovers, and - once mature - reactivated contacts per arm (not unknown_contacts: the mart
  counts contact_ids unknown to the CRM, the generator those unknown to the shop and the CRM);
* lift is null without holdout, every outcome is null for the campaign still in its window;
* the planted incremental reactivations ((p_treated - p_holdout) x targeted) lie inside the
  mart's 95 % interval for every campaign the mart calls sample-sufficient, inside it for at least
  80 % of all holdout campaigns (12 intervals at 95 %: 3 misses or more has probability 2 %), and
  the pooled estimate over all holdout campaigns is within 2.576 pooled standard errors (99 %) of
  the pooled planted lift - the scale is big enough that this pooled interval excludes 0.
"""

from __future__ import annotations

import math

import duckdb
import pytest

Z95 = 1.959963984540054
COUNTS = {  # generator summary key -> mart column
    "treated": "targeted_contacts",
    "holdout": "holdout_contacts",
    "excluded_not_lapsed": "excluded_not_lapsed",
    "crossovers": "crossovers",
}
OUTCOMES = {"treated_reactivated": "reactivated_targeted", "holdout_reactivated": "reactivated_holdout"}


@pytest.fixture(scope="module")
def recall_marts(recall_warehouse) -> dict:
    con = duckdb.connect(str(recall_warehouse["path"]), read_only=True)
    try:
        cursor = con.execute("select * from marts.mart_recall_campaign_summary")
        names = [d[0] for d in cursor.description]
        marts = {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
    finally:
        con.close()
    truth = recall_warehouse["summary"]["recall_campaigns"]
    return {"truth": {c["campaign_id"]: c for c in truth}, "marts": marts}


def _holdout_campaigns(recall_marts) -> list[tuple[dict, dict]]:
    truth, marts = recall_marts["truth"], recall_marts["marts"]
    return [(truth[k], marts[k]) for k in sorted(truth) if truth[k]["has_holdout"] and truth[k]["is_mature"]]


def test_every_planted_campaign_is_in_the_summary_with_the_generators_counts(recall_marts):
    truth, marts = recall_marts["truth"], recall_marts["marts"]
    assert set(marts) == set(truth)
    for campaign_id, planted in truth.items():
        mart = marts[campaign_id]
        assert mart["campaign_name"] == planted["campaign_name"]
        assert mart["is_mature"] is planted["is_mature"], campaign_id
        assert {k: mart[c] for k, c in COUNTS.items()} == {k: planted[k] for k in COUNTS}, campaign_id
        if planted["is_mature"]:
            assert {k: mart[c] for k, c in OUTCOMES.items()} == {k: planted[k] for k in OUTCOMES}, campaign_id


def test_lift_is_null_without_holdout_and_outcomes_null_until_mature(recall_marts):
    truth, marts = recall_marts["truth"], recall_marts["marts"]
    without_holdout = [k for k, c in truth.items() if not c["has_holdout"]]
    immature = [k for k, c in truth.items() if not c["is_mature"]]
    assert without_holdout and immature
    for k in without_holdout:
        assert marts[k]["incremental_reactivations"] is None and marts[k]["is_significant"] is None
        assert marts[k]["reactivation_rate_holdout"] is None
    for k in immature:
        assert marts[k]["reactivated_targeted"] is None and marts[k]["attributed_reactivations"] is None
        assert marts[k]["targeted_contacts"] > 0  # the contacts are known, their outcome is not


def test_planted_lift_is_inside_the_confidence_interval(recall_marts):
    campaigns = _holdout_campaigns(recall_marts)
    sufficient = [(t, m) for t, m in campaigns if m["is_sample_sufficient"]]
    assert len(campaigns) >= 10 and len(sufficient) >= 5, "scale too small to test the lift"

    def planted(t: dict) -> float:
        return t["expected_lift"] * t["treated"]

    def inside(t: dict, m: dict) -> bool:
        return m["incremental_reactivations_lower"] <= planted(t) <= m["incremental_reactivations_upper"]

    outside_sufficient = [t["campaign_id"] for t, m in sufficient if not inside(t, m)]
    assert not outside_sufficient
    covered = sum(inside(t, m) for t, m in campaigns)
    assert covered >= 0.8 * len(campaigns), (covered, len(campaigns))

    # pooled over campaigns: standard error of each estimate from its 95 % bounds
    estimate = sum(m["incremental_reactivations"] for _, m in campaigns)
    expected = sum(planted(t) for t, _ in campaigns)
    se = math.sqrt(
        sum(((m["incremental_reactivations_upper"] - m["incremental_reactivations_lower"]) / (2 * Z95)) ** 2
            for _, m in campaigns)
    )  # fmt: skip
    assert abs(estimate - expected) <= 2.576 * se, (estimate, expected, se)
    assert expected > Z95 * se, "the pooled interval must be able to tell the planted lift from 0"


def test_rates_and_attribution_are_consistent(recall_marts):
    for planted, mart in _holdout_campaigns(recall_marts):
        rate_difference = mart["reactivation_rate_targeted"] - mart["reactivation_rate_holdout"]
        assert math.isclose(mart["incremental_reactivations"], rate_difference * mart["targeted_contacts"])
        assert mart["is_significant"] == (
            mart["incremental_reactivations_lower"] > 0 or mart["incremental_reactivations_upper"] < 0
        )
        assert 0 <= mart["attributed_reactivations"] <= mart["reactivated_targeted"], planted["campaign_id"]
