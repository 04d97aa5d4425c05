"""An independent recomputation of the recall marts (SPEC §11) from the landing files (pandas).

Written from SPEC §11 and the pinned readings in dbt_project/DECISIONLOG.md (30-35), not from
the dbt SQL, and reading no dbt model: the messages export is read with pandas (newest landing
day of a message_id wins), orders and contacts come from ``dbt_oracle.compute`` (itself computed
from the landing files), fx through its converter. Lapsed-at-sent_at is found with merge_asof,
crossovers as contacts with both arms among their rows, the revenue interval with scipy's exact
Student t quantile (the marts use a documented Cornish-Fisher approximation: the tests compare
those bounds within its error) and pandas' own sample variance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from dbt_oracle import Oracle
from oracle_inputs import files, latest, read, strip_lower
from scipy import stats

Z975 = float(stats.norm.ppf(0.975))
WEEK_KEYS = ["campaign_id", "send_week"]


@dataclass(frozen=True)
class RecallVars:
    reporting_timezone: str
    reactivation_days: int
    recall_window_days: int = 14
    recall_min_arm_size: int = 100


@dataclass
class RecallOracle:
    contacts: pd.DataFrame  # campaign x contact: arm, lapsed, crossover, outcome, attribution, cost
    campaigns: pd.DataFrame  # mart_recall_campaigns (campaign x send week)
    summary: pd.DataFrame  # mart_recall_campaign_summary
    last_recall: pd.DataFrame  # contact_id -> last recall row (dim_customers, candidates)


def read_messages(landing: Path, oracle: Oracle, timezone: str) -> pd.DataFrame:
    """Every message, newest landing day per message_id, with its cost in the reporting currency."""
    msgs = pd.concat(
        [read(p).assign(landing_day=d) for d, p in files(landing, "messages")], ignore_index=True
    )
    for column in ("message_id", "contact_id", "campaign_id", "campaign_name"):
        msgs[column] = msgs[column].str.strip()
    msgs = latest(msgs, ["message_id"], ["landing_day"]).copy()
    msgs["channel"] = strip_lower(msgs["channel"])
    msgs["purpose"] = strip_lower(msgs["purpose"])
    msgs["is_holdout"] = strip_lower(msgs["is_holdout"]).isin({"true", "t", "1", "yes", "y"})
    msgs["sent_at"] = pd.to_datetime(msgs["sent_at"], utc=True, format="ISO8601")
    msgs["sent_date"] = msgs["sent_at"].dt.tz_convert(timezone).dt.date
    has_cost = msgs["cost"].str.strip() != ""
    msgs["message_cost"] = np.nan
    with_cost = msgs[has_cost]
    rate = oracle.to_reporting(
        pd.to_datetime(with_cost["sent_date"]), with_cost["currency"].str.strip().str.upper()
    )
    msgs.loc[has_cost, "message_cost"] = (with_cost["cost"].astype(float) * rate).round(4)
    return msgs


def _assign(recall: pd.DataFrame, valid: pd.DataFrame, known: set, v: RecallVars) -> pd.DataFrame:
    """Per campaign x contact: the first recall row sets arm and sent_at; lapsed at sent_at."""
    rows = recall.sort_values(["campaign_id", "contact_id", "sent_at", "message_id"])
    pair = rows.groupby(["campaign_id", "contact_id"], sort=False)
    first = pair.head(1)[["campaign_id", "contact_id", "message_id", "is_holdout", "sent_at", "sent_date"]]
    per_pair = pair.agg(arms=("is_holdout", "nunique"), cost=("message_cost", lambda s: s.sum(min_count=1)))
    a = first.merge(per_pair.reset_index(), on=["campaign_id", "contact_id"])
    # latest valid order strictly before sent_at, from merge_asof (its date in the reporting tz)
    before = pd.merge_asof(
        a.sort_values("sent_at"),
        valid[["contact_id", "created_at", "order_date"]].sort_values("created_at"),
        left_on="sent_at",
        right_on="created_at",
        by="contact_id",
        allow_exact_matches=False,
        direction="backward",
    )
    gap = pd.to_datetime(before["sent_date"]) - pd.to_datetime(before["order_date"])
    before["is_lapsed"] = (gap.dt.days > v.reactivation_days).fillna(False).astype(bool)
    a = before.drop(columns=["created_at", "order_date"])
    a["is_known_contact"] = a["contact_id"].isin(known)
    a["has_crossover"] = a["arms"] > 1
    a["is_targeted"] = a["is_lapsed"] & ~a["is_holdout"]
    a["is_in_holdout"] = a["is_lapsed"] & a["is_holdout"]
    sent_day = pd.to_datetime(a["sent_date"])
    a["send_week"] = (sent_day - pd.to_timedelta(sent_day.dt.weekday, unit="D")).dt.date
    a["window_ends_at"] = a["sent_at"] + pd.Timedelta(hours=24 * v.recall_window_days)
    a["matures_on"] = a["window_ends_at"].dt.tz_convert(v.reporting_timezone).dt.date
    return a


def _outcomes(a: pd.DataFrame, valid: pd.DataFrame, as_of_date) -> pd.DataFrame:
    """Window orders per campaign on its own, and each order credited to at most one treated row."""
    pairs = a[["campaign_id", "contact_id", "message_id", "sent_at", "window_ends_at", "is_targeted"]].merge(
        valid[["order_id", "contact_id", "created_at", "net_revenue"]], on="contact_id"
    )
    inside = pairs[
        (pairs["created_at"] > pairs["sent_at"]) & (pairs["created_at"] <= pairs["window_ends_at"])
    ]
    outcome = inside.groupby(["campaign_id", "contact_id"]).agg(window_revenue=("net_revenue", "sum"))
    credited = (
        inside[inside["is_targeted"]]
        .sort_values(["order_id", "sent_at", "message_id"])
        .groupby("order_id")
        .tail(1)[["campaign_id", "contact_id"]]
        .drop_duplicates()
        .assign(has_attributed_order=True)
    )
    a = a.merge(outcome.reset_index(), on=["campaign_id", "contact_id"], how="left")
    a["is_reactivated"] = a["window_revenue"].notna()
    a["window_revenue"] = a["window_revenue"].fillna(0.0)
    a = a.merge(credited, on=["campaign_id", "contact_id"], how="left")
    a["has_attributed_order"] = a["has_attributed_order"].notna()
    a["is_mature"] = a["matures_on"] <= as_of_date
    return a


def _aggregate(a: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Counts, arm sums and pandas' sample variance of window revenue per arm, over ``keys``."""
    g = a.assign(
        unknown=~a["is_known_contact"],
        crossover=a["is_lapsed"] & a["has_crossover"],
        not_lapsed=~a["is_lapsed"],
        attributed=a["is_targeted"] & a["has_attributed_order"],
    ).groupby(keys)
    out = g.agg(
        contacts=("contact_id", "size"),
        unknown_contacts=("unknown", "sum"),
        crossovers=("crossover", "sum"),
        excluded_not_lapsed=("not_lapsed", "sum"),
        is_mature=("is_mature", "all"),
        matures_on=("matures_on", "max"),
        message_cost=("cost", lambda s: s.sum(min_count=1)),
        attributed_reactivations=("attributed", "sum"),
    )
    for arm, flag in (("targeted", "is_targeted"), ("holdout", "is_in_holdout")):
        members = a[a[flag]].groupby(keys)
        arm_stats = members.agg(
            n=("contact_id", "size"),
            reactivated=("is_reactivated", "sum"),
            revenue=("window_revenue", "sum"),
            variance=("window_revenue", lambda s: s.var(ddof=1)),
        )
        out[f"{arm}_contacts"] = arm_stats["n"].reindex(out.index).fillna(0).astype(int)
        out[f"reactivated_{arm}"] = arm_stats["reactivated"].reindex(out.index).fillna(0)
        out[f"window_revenue_{arm}"] = arm_stats["revenue"].reindex(out.index).fillna(0.0)
        out[f"variance_{arm}"] = arm_stats["variance"].reindex(out.index)
    return out.reset_index()


def _divide(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den != 0)).astype(float)


def _lift(f: pd.DataFrame, cost: pd.Series) -> pd.DataFrame:
    """SPEC §11 measures with their 95 % bounds; null (NaN) where the SPEC says unknown."""
    n_t, n_h = f["targeted_contacts"].astype(float), f["holdout_contacts"].astype(float)
    mature = f["is_mature"]
    lift = mature & (n_t > 0) & (n_h > 0)
    r_t, r_h = _divide(f["reactivated_targeted"], n_t), _divide(f["reactivated_holdout"], n_h)
    margin = Z975 * np.sqrt(r_t * (1 - r_t) / n_t + r_h * (1 - r_h) / n_h)
    incremental = (r_t - r_h) * n_t
    u_t, u_h = f["variance_targeted"] / n_t, f["variance_holdout"] / n_h
    welch_df = (u_t + u_h) ** 2 / (u_t**2 / (n_t - 1) + u_h**2 / (n_h - 1))
    quantile = np.where(welch_df > 0, stats.t.ppf(0.975, welch_df.where(welch_df > 0, 1.0)), Z975)
    revenue_margin = quantile * np.sqrt(u_t + u_h) * n_t
    incremental_revenue = f["window_revenue_targeted"] - f["window_revenue_holdout"] * n_t / n_h
    out = f.copy()
    for arm, rate in (("targeted", r_t), ("holdout", r_h)):
        out[f"reactivated_{arm}"] = f[f"reactivated_{arm}"].where(mature)
        out[f"reactivation_rate_{arm}"] = rate.where(mature)
        out[f"window_revenue_{arm}"] = f[f"window_revenue_{arm}"].where(mature)
        out[f"window_revenue_per_contact_{arm}"] = _divide(
            f[f"window_revenue_{arm}"], f[f"{arm}_contacts"]
        ).where(mature)
    out["has_holdout"] = n_h > 0
    out["incremental_reactivations"] = incremental.where(lift)
    out["incremental_reactivations_lower"] = ((r_t - r_h - margin) * n_t).where(lift)
    out["incremental_reactivations_upper"] = ((r_t - r_h + margin) * n_t).where(lift)
    out["incremental_revenue"] = incremental_revenue.where(lift)
    out["incremental_revenue_lower"] = (incremental_revenue - revenue_margin).where(lift)
    out["incremental_revenue_upper"] = (incremental_revenue + revenue_margin).where(lift)
    out["welch_df"] = welch_df.where(lift)
    significant = (out["incremental_reactivations_lower"] > 0) | (out["incremental_reactivations_upper"] < 0)
    out["is_significant"] = significant.astype(float).where(lift)  # 1.0 / 0.0 / NaN = null
    out["cost"] = cost
    out["cost_per_incremental_reactivation"] = (cost / incremental).where(lift & (incremental > 0))
    out["attributed_reactivations"] = f["attributed_reactivations"].where(mature)
    return out


def _campaign_names(recall: pd.DataFrame) -> pd.DataFrame:
    """Name and channel of a campaign: those of its latest recall row (ties: latest message_id)."""
    newest = recall.sort_values(["sent_at", "message_id"]).groupby("campaign_id").tail(1)
    return newest[["campaign_id", "campaign_name", "channel"]]


def _retention_costs(summary: pd.DataFrame, costs: pd.DataFrame) -> pd.Series:
    """Retention-purpose cost rows whose campaign is the campaign's name or id (lower-trimmed),
    each row at most once per campaign; NaN when none."""
    retention = costs[costs["purpose"] == "retention"]
    totals = []
    for name, cid in zip(summary["campaign_name"], summary["campaign_id"], strict=True):
        keys = {name.strip().lower(), cid.strip().lower()}
        rows = retention[retention["campaign"].isin(keys)]
        totals.append(rows["cost"].sum() if len(rows) else np.nan)
    return pd.Series(totals, index=summary.index, dtype=float)


def compute_recall(landing: Path, oracle: Oracle, v: RecallVars) -> RecallOracle:
    msgs = read_messages(Path(landing), oracle, v.reporting_timezone)
    recall = msgs[msgs["purpose"] == "recall"]
    od = oracle.orders
    valid = od[od["is_valid"] & od["contact_id"].notna()]
    known = set(oracle.contacts["contact_id"])
    contacts = _outcomes(_assign(recall, valid, known, v), valid, oracle.as_of_date)
    names = _campaign_names(recall)

    weeks = _aggregate(contacts, WEEK_KEYS).merge(names, on="campaign_id")
    weeks = _lift(weeks, weeks["message_cost"])

    summary = _aggregate(contacts, ["campaign_id"]).merge(names, on="campaign_id")
    spans = contacts.groupby("campaign_id")["send_week"].agg(first_send_week="min", last_send_week="max")
    summary = summary.merge(spans.reset_index(), on="campaign_id")
    summary["retention_cost"] = _retention_costs(summary, oracle.costs)
    both_unknown = summary["message_cost"].isna() & summary["retention_cost"].isna()
    total = (summary["message_cost"].fillna(0) + summary["retention_cost"].fillna(0)).where(~both_unknown)
    summary = _lift(summary, total)
    summary["is_sample_sufficient"] = (summary["targeted_contacts"] >= v.recall_min_arm_size) & (
        summary["holdout_contacts"] >= v.recall_min_arm_size
    )

    newest = recall.sort_values(["sent_at", "message_id"]).groupby("contact_id").tail(1)
    last_recall = newest.rename(
        columns={
            "campaign_id": "last_recall_campaign_id",
            "campaign_name": "last_recall_campaign_name",
            "sent_at": "last_recall_sent_at",
            "is_holdout": "last_recall_is_holdout",
        }
    )[["contact_id", "last_recall_campaign_id", "last_recall_campaign_name", "last_recall_sent_at",
       "last_recall_is_holdout"]]  # fmt: skip
    return RecallOracle(contacts=contacts, campaigns=weeks, summary=summary, last_recall=last_recall)
