"""The recall marts equal an independent pandas recomputation from the landing files (SPEC §11).

Two builds are compared: the shared 4-month warehouse (EUR, Asia/Tokyo, built in two rounds,
reactivation_days 30: two campaigns, one still in its window) and the 18-month recall warehouse
(USD, UTC: 17 campaigns with and without holdout, crossovers, messages to contacts unknown to
the CRM, retention costs). Counts must be equal, money equal to the cent, rates and lift to 1e-9.
The revenue bounds use the mart's Cornish-Fisher t quantile (DECISIONLOG 34) against the
oracle's exact one: they are compared to the cent plus that approximation's documented error.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import ORACLE_VARS
from dbt_oracle import compute
from oracle_compare import MONEY_TOLERANCE, assert_match
from recall_oracle import WEEK_KEYS, RecallVars, compute_recall

COUNTS = ("contacts", "unknown_contacts", "targeted_contacts", "holdout_contacts", "crossovers",
          "excluded_not_lapsed", "has_holdout", "is_mature", "matures_on", "campaign_name", "channel")  # fmt: skip
# counts and flags that are null until mature / without holdout compare as floats (NaN = null)
NULLABLE = ("reactivated_targeted", "reactivated_holdout", "attributed_reactivations",
            "reactivation_rate_targeted", "reactivation_rate_holdout", "incremental_reactivations",
            "incremental_reactivations_lower", "incremental_reactivations_upper", "is_significant")  # fmt: skip
MONEY = ("window_revenue_targeted", "window_revenue_holdout", "incremental_revenue", "cost")
MONEY_PER_UNIT = ("window_revenue_per_contact_targeted", "window_revenue_per_contact_holdout",
                  "cost_per_incremental_reactivation")  # fmt: skip
DATES = ("send_week", "first_send_week", "last_send_week", "matures_on")


def _t_quantile_error(welch_df: pd.Series) -> pd.Series:
    """Bound of |Cornish-Fisher - exact| of the 97.5 % t quantile (4 terms; measured: 2.7e-5 at
    df 5, 9e-4 at 4, 3.8e-3 at 3, 0.032 at 2, 1.41 at 1; Welch's df is >= 1)."""
    bounds = [(5, 1e-4), (4, 1e-3), (3, 4e-3), (2, 0.035)]
    out = pd.Series(1.5, index=welch_df.index)
    for df_from, bound in reversed(bounds):
        out = out.where(~(welch_df >= df_from), bound)
    return out


@pytest.fixture(scope="module", params=["built_warehouse", "recall_warehouse"])
def build(request) -> dict:
    warehouse = request.getfixturevalue(request.param)
    names = ("reporting_currency", "reporting_timezone", "reactivation_days")
    dbt_vars = ORACLE_VARS if request.param == "built_warehouse" else warehouse["vars"]
    if request.param == "built_warehouse":
        base = request.getfixturevalue("built_oracle")  # the marts oracle tests' own, computed once
    else:
        base = compute(warehouse["landing"], *(dbt_vars[n] for n in names))
    recall = compute_recall(
        warehouse["landing"],
        base,
        RecallVars(dbt_vars["reporting_timezone"], dbt_vars["reactivation_days"], **{
            k: dbt_vars[k] for k in ("recall_window_days", "recall_min_arm_size") if k in dbt_vars
        }),
    )  # fmt: skip
    con = duckdb.connect(str(warehouse["path"]), read_only=True)
    marts = {
        name: con.sql(f"select * from marts.{name}").df()
        for name in ("mart_recall_campaigns", "mart_recall_campaign_summary", "dim_customers",
                     "mart_reactivation_candidates")
    }  # fmt: skip
    con.close()
    return {"oracle": recall, "base": base, "marts": marts, "vars": dbt_vars}


def _dates(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for column in DATES:
        if column in df:
            df[column] = pd.to_datetime(df[column])
    return df


def _assert_revenue_bounds(m: pd.DataFrame, keys: list[str]) -> None:
    incremental = m["incremental_revenue_oracle"].astype(float)
    slack = MONEY_TOLERANCE + _t_quantile_error(m["welch_df"]) * (
        (m["incremental_revenue_upper_oracle"].astype(float) - incremental).abs() / 1.959963984540054
    )  # margin / quantile >= margin / t: a quantile error of e moves the bound by <= e x that
    for column in ("incremental_revenue_lower", "incremental_revenue_upper"):
        a, b = m[f"{column}_mart"].astype(float), m[f"{column}_oracle"].astype(float)
        bad = m[(a.isna() != b.isna()) | ((a - b).abs() > slack)]
        assert bad.empty, bad[[*keys, f"{column}_mart", f"{column}_oracle", "welch_df"]].head()


def _match(mart: pd.DataFrame, oracle: pd.DataFrame, keys: list[str], exact=(), money=()) -> pd.DataFrame:
    mart = _dates(mart)
    mart["is_significant"] = mart["is_significant"].astype("float")
    m = assert_match(
        mart,
        _dates(oracle),
        keys,
        exact=(*COUNTS, *exact),
        money=(*MONEY, *money),
        ratios=NULLABLE,
        money_ratios=MONEY_PER_UNIT,
    )
    _assert_revenue_bounds(m, keys)
    return m


def test_recall_campaign_weeks_match_oracle(build):
    mart = build["marts"]["mart_recall_campaigns"]
    assert len(mart) > 0 and mart["campaign_id"].nunique() >= 2
    m = _match(mart, build["oracle"].campaigns, WEEK_KEYS)
    assert (m["as_of_date"] == pd.Timestamp(build["base"].as_of_date)).all()


def test_recall_campaign_summary_matches_oracle(build):
    mart = build["marts"]["mart_recall_campaign_summary"]
    m = _match(
        mart,
        build["oracle"].summary,
        ["campaign_id"],
        exact=("first_send_week", "last_send_week", "is_sample_sufficient"),
        money=("message_cost", "retention_cost"),
    )
    # the data exercise the definitions: measured arms, a reactivation, one campaign still in its window
    assert (m["holdout_contacts_mart"] > 0).any() and (m["reactivated_targeted_mart"] > 0).any()
    assert (~m["is_mature_mart"]).any() and m["is_mature_mart"].any()
    assert m["message_cost_mart"].notna().any() and m["retention_cost_mart"].notna().any()


def _last_recall(mart: pd.DataFrame) -> pd.DataFrame:
    out = mart[["customer_id", "last_recall_campaign_id", "last_recall_campaign_name", "last_recall_sent_at",
                "last_recall_is_holdout"]].copy()  # fmt: skip
    sent = pd.to_datetime(out["last_recall_sent_at"])
    out["last_recall_sent_at"] = sent.dt.tz_convert("UTC") if sent.dt.tz else sent.dt.tz_localize("UTC")
    return _nulls_as_text(out.set_index("customer_id").sort_index())


def _nulls_as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Null as a value of its own, so that null = null compares equal."""
    return df.astype(object).where(df.notna(), "(null)")


@pytest.mark.parametrize("mart_name", ["dim_customers", "mart_reactivation_candidates"])
def test_last_recall_message_columns_match_oracle(build, mart_name):
    mart = _last_recall(build["marts"][mart_name])
    last = build["oracle"].last_recall.rename(columns={"contact_id": "customer_id"}).set_index("customer_id")
    expected = _nulls_as_text(last.reindex(mart.index))
    differs = (mart != expected).any(axis=1)
    assert not differs.any(), pd.concat([mart[differs], expected[differs]], axis=1).head()
    # customers that were recalled (and some that were not) are in the mart
    recalled = mart["last_recall_campaign_id"] != "(null)"
    assert recalled.any() and not recalled.all()


def test_recall_data_exercise_the_edges(recall_warehouse):
    """The 18-month landing holds every SPEC §11 edge the comparisons above rely on."""
    con = duckdb.connect(str(recall_warehouse["path"]), read_only=True)
    s = con.sql("select * from marts.mart_recall_campaign_summary").df()
    con.close()
    mature = s[s["is_mature"]]
    assert (~s["has_holdout"]).any() and s[~s["has_holdout"]]["incremental_reactivations"].isna().all()
    assert (
        (s["crossovers"] > 0).any()
        and (s["excluded_not_lapsed"] > 0).any()
        and (s["unknown_contacts"] > 0).any()
    )
    assert mature["is_sample_sufficient"].any() and (~mature["is_sample_sufficient"]).any()
    assert mature["is_significant"].eq(True).any()
    # campaigns are 28 days apart and windows 14 days long: no order falls in two campaigns'
    # windows here, so every treated reactivation is attributed (the dedupe is pinned by the dbt
    # unit test test_int_recall_orders_attributed_latest_message_once)
    assert (mature["attributed_reactivations"] == mature["reactivated_targeted"]).all()
    assert mature["attributed_reactivations"].sum() > 0


def test_recall_costs_equal_what_the_generator_planted(recall_warehouse):
    """USD reporting: the marts' message and retention costs are the generator's planted costs."""
    con = duckdb.connect(str(recall_warehouse["path"]), read_only=True)
    rows = con.execute(
        "select campaign_id, message_cost, retention_cost, cost from marts.mart_recall_campaign_summary"
    ).fetchall()
    weeks = dict(
        con.execute("select campaign_id, sum(cost) from marts.mart_recall_campaigns group by 1").fetchall()
    )
    con.close()
    planted = {c["campaign_id"]: c for c in recall_warehouse["summary"]["recall_campaigns"]}
    assert {r[0] for r in rows} == set(planted)
    for campaign_id, message_cost, retention_cost, cost in rows:
        truth = planted[campaign_id]
        assert truth["message_cost_currency"] in {"USD", None}
        assert set(truth["retention_cost"]) <= {"USD"}
        want_message = truth["message_cost"]
        want_retention = truth["retention_cost"].get("USD")
        assert (message_cost is None) == (want_message is None), campaign_id
        assert (retention_cost is None) == (want_retention is None), campaign_id
        if want_message is not None:
            assert float(message_cost) == pytest.approx(want_message, abs=1e-9), campaign_id
            assert float(weeks[campaign_id]) == pytest.approx(want_message, abs=1e-9), campaign_id
        if want_retention is not None:
            assert float(retention_cost) == pytest.approx(want_retention, abs=1e-9), campaign_id
        want_cost = (
            None
            if want_message is None and want_retention is None
            else (want_message or 0) + (want_retention or 0)
        )
        assert (cost is None) == (want_cost is None), campaign_id
        if want_cost is not None:
            assert float(cost) == pytest.approx(want_cost, abs=1e-9), campaign_id
    # the data exercise both costs: campaigns with message cost only, with both, with neither
    kinds = {(planted[r[0]]["message_cost"] is not None, bool(planted[r[0]]["retention_cost"])) for r in rows}
    assert {(True, False), (True, True), (False, False)} <= kinds, kinds
    assert np.isfinite([float(r[3]) for r in rows if r[3] is not None]).all()
