"""An independent recomputation of the marts straight from the landing files (pandas).

Written from SPEC §2-§3 and the pinned readings in dbt_project/DECISIONLOG.md, without
looking at the dbt SQL: files are read with pandas, platform headers mapped with
config/platforms/*.json, latest versions picked in pandas, fx as-of through merge_asof, the
channel mapping evaluated by translating the seed's LIKE patterns to regular expressions.
Money is rounded to 4 decimals per order and per campaign day (the pinned conversion), so the
marts must match to the cent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from oracle_inputs import files, fx_converter, latest, read, read_costs, strip_lower

from growthops.config import REPO_ROOT

VALID = {"paid", "shipped", "delivered", "partially_refunded"}
COUNTED = VALID | {"refunded"}
ENGAGED = {"mql", "sql", "opportunity", "customer"}
SEEDS = REPO_ROOT / "dbt_project" / "seeds"
PLATFORMS = REPO_ROOT / "config" / "platforms"
ZERO_COST_CHANNELS = {"organic_search", "referral", "direct"}  # dbt var zero_cost_channels (default)


def _like_to_regex(pattern: str) -> re.Pattern:
    out = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile(out, re.DOTALL)


@dataclass
class Oracle:
    orders: pd.DataFrame
    contacts: pd.DataFrame
    funnel_daily: pd.DataFrame
    funnel_stages: pd.DataFrame
    cohort_retention: pd.DataFrame
    reactivation: pd.DataFrame
    as_of_date: object
    activity_monthly: pd.DataFrame | None = None
    unit_economics: pd.DataFrame | None = None
    to_reporting: Callable | None = None  # (days, currencies) -> rate to the reporting currency
    costs: pd.DataFrame | None = None  # the costs export, every purpose, converted


def compute(
    landing: Path, reporting_currency: str, reporting_timezone: str, reactivation_days: int
) -> Oracle:
    landing = Path(landing)
    rc = reporting_currency.upper()

    to_reporting = fx_converter(landing, rc)

    # ---- channel: platform headers from config/platforms, newest file per campaign day
    frames = []
    for day, path in files(landing, "channel"):
        mapping = json.loads((PLATFORMS / f"{path.stem}.json").read_text(encoding="utf-8"))["columns"]
        df = read(path).rename(columns=mapping)
        if "platform" not in df:
            df["platform"] = path.stem
        frames.append(df.assign(landing_day=day))
    ch = pd.concat(frames, ignore_index=True)
    ch["platform"] = strip_lower(ch["platform"])
    ch["campaign_id"] = ch["campaign_id"].str.strip()
    ch["date"] = pd.to_datetime(ch["date"])
    ch = latest(ch, ["date", "platform", "campaign_id"], ["landing_day"])
    ch["impressions"] = ch["impressions"].astype(int)
    ch["clicks"] = ch["clicks"].astype(int)
    ch["spend_local"] = ch["spend"].str.replace(",", "", regex=False).astype(float)
    ch["currency"] = ch["currency"].str.strip().str.upper()
    platform_channel = dict(pd.read_csv(SEEDS / "platform_channels.csv", dtype=str).values)
    ch["channel"] = ch["platform"].map(platform_channel)
    ch["campaign"] = strip_lower(ch["campaign_name"])
    ch["spend"] = (ch["spend_local"] * to_reporting(ch["date"], ch["currency"])).round(4)
    ch["report_date"] = ch["date"].dt.date

    # ---- contacts: newest version, first-touch channel through the seed's rules
    crm = pd.concat([read(p).assign(landing_day=d) for d, p in files(landing, "crm")], ignore_index=True)
    crm["updated_at"] = pd.to_datetime(crm["updated_at"], utc=True, format="ISO8601")
    crm["created_at"] = pd.to_datetime(crm["created_at"], utc=True, format="ISO8601")
    crm["contact_id"] = crm["contact_id"].str.strip()
    # engaged = reached mql, sql, opportunity or customer in any loaded version (stage history)
    ever_engaged = set(crm.loc[strip_lower(crm["lifecycle_stage"]).isin(ENGAGED), "contact_id"])
    crm = latest(crm, ["contact_id"], ["updated_at", "landing_day"])
    rules = pd.read_csv(SEEDS / "channel_mapping.csv", dtype=str, keep_default_na=False)
    rules["priority"] = rules["priority"].astype(int)
    rules = rules.sort_values(["priority", "utm_source_pattern", "utm_medium_pattern"])
    compiled = [
        (_like_to_regex(r.utm_source_pattern.strip().lower()), _like_to_regex(r.utm_medium_pattern.strip().lower()), r.channel)
        for r in rules.itertuples()
    ]  # fmt: skip

    def channel_of(source: str, medium: str) -> str:
        if source == "" and medium == "":
            return "direct"
        for src, med, channel in compiled:
            if src.fullmatch(source) and med.fullmatch(medium):
                return channel
        return "unmatched"

    src = strip_lower(crm["utm_source"])
    med = strip_lower(crm["utm_medium"])
    crm["channel"] = [channel_of(s, m) for s, m in zip(src, med, strict=True)]
    camp = strip_lower(crm["utm_campaign"])
    crm["campaign"] = camp.where(camp != "", "(none)")
    local_signup = crm["created_at"].dt.tz_convert(reporting_timezone)
    crm["signup_date"] = local_signup.dt.date
    crm["signup_month"] = local_signup.dt.tz_localize(None).dt.to_period("M").dt.to_timestamp().dt.date
    crm["is_engaged"] = crm["contact_id"].isin(ever_engaged)
    contacts = crm.set_index("contact_id")

    # ---- orders: newest version, net revenue converted at the order's local date
    od = pd.concat([read(p).assign(landing_day=d) for d, p in files(landing, "orders")], ignore_index=True)
    od["updated_at"] = pd.to_datetime(od["updated_at"], utc=True, format="ISO8601")
    od["created_at"] = pd.to_datetime(od["created_at"], utc=True, format="ISO8601")
    od["order_id"] = od["order_id"].str.strip()
    od = latest(od, ["order_id"], ["updated_at", "landing_day"]).copy()
    od["status"] = strip_lower(od["status"])
    od["currency"] = od["currency"].str.strip().str.upper()
    od["contact_id"] = od["contact_id"].str.strip().replace("", None)
    local_created = od["created_at"].dt.tz_convert(reporting_timezone)
    od["order_date"] = local_created.dt.date
    od["order_month"] = local_created.dt.tz_localize(None).dt.to_period("M").dt.to_timestamp().dt.date
    od["is_valid"] = od["status"].isin(VALID)
    od["is_counted"] = od["status"].isin(COUNTED)
    net_local = (
        od["gross_amount"].astype(float)
        - od["discount_amount"].astype(float)
        - od["refund_amount"].astype(float)
    )
    od["net_revenue"] = np.where(
        od["is_counted"],
        (net_local * to_reporting(pd.to_datetime(od["order_date"]), od["currency"])).round(4),
        0.0,
    )
    known = od["contact_id"].isin(contacts.index)
    od["channel"] = np.where(known, od["contact_id"].map(contacts["channel"]), "unattributed")
    od["campaign"] = np.where(known, od["contact_id"].map(contacts["campaign"]), "(none)")
    first = (
        od[od["is_valid"] & od["contact_id"].notna()]
        .sort_values(["created_at", "order_id"])
        .groupby("contact_id", as_index=False)
        .head(1)
    )
    od["is_first_order"] = od["order_id"].isin(first["order_id"])
    as_of_date = od["order_date"].max()

    # ---- mart_channel_funnel_daily
    keys = ["report_date", "channel", "campaign"]
    spend = ch.groupby(keys).agg(
        spend=("spend", "sum"), impressions=("impressions", "sum"), clicks=("clicks", "sum")
    )
    signups = crm.rename(columns={"signup_date": "report_date"}).groupby(keys).size().rename("signups")
    newc = (
        first.rename(columns={"order_date": "report_date"})
        .groupby(keys)
        .agg(new_customers=("order_id", "size"), first_order_revenue=("net_revenue", "sum"))
    )
    rev = (
        od[od["is_counted"]].rename(columns={"order_date": "report_date"}).groupby(keys)["net_revenue"].sum()
        .rename("attributed_revenue")
    )  # fmt: skip
    # acquisition costs (SPEC §11)
    all_costs = read_costs(landing, to_reporting)
    costs = all_costs[all_costs["purpose"] == "acquisition"][["report_date", "channel", "campaign", "cost"]]
    cost = costs.groupby(keys)["cost"].sum().rename("acquisition_cost")
    funnel = pd.concat([spend.rename(columns={"spend": "ad_spend"}), cost, signups, newc, rev], axis=1)
    funnel = funnel.fillna(0).reset_index()
    for c in ("impressions", "clicks", "signups", "new_customers"):
        funnel[c] = funnel[c].astype(int)
    # spend is known from a channel's first ad row or acquisition cost row; zero-cost channels: 0
    known_from = (
        pd.concat([ch.groupby("channel")["report_date"].min(), costs.groupby("channel")["report_date"].min()])
        .groupby(level=0)
        .min()
    )
    first_known = funnel["channel"].map(known_from)
    is_known = funnel["channel"].isin(ZERO_COST_CHANNELS) | (
        first_known.notna()
        & (funnel["report_date"] >= first_known.where(first_known.notna(), funnel["report_date"]))
    )
    funnel["spend"] = (funnel["ad_spend"] + funnel["acquisition_cost"]).where(is_known)

    def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
        return (num / den.where(den != 0)).astype(float)

    funnel["ctr"] = ratio(funnel["clicks"], funnel["impressions"])
    funnel["cpc"] = ratio(funnel["spend"], funnel["clicks"])
    funnel["cpl"] = ratio(funnel["spend"], funnel["signups"])
    funnel["cac"] = ratio(funnel["spend"], funnel["new_customers"])
    funnel["roas"] = ratio(funnel["attributed_revenue"], funnel["spend"])

    # ---- mart_funnel_stages
    valid_counts = od[od["is_valid"] & od["contact_id"].notna()].groupby("contact_id").size()
    crm["valid_orders"] = crm["contact_id"].map(valid_counts).fillna(0).astype(int)
    stages = crm.groupby(["signup_month", "channel"]).agg(
        signups=("contact_id", "size"),
        engaged=("is_engaged", "sum"),
        customers=("valid_orders", lambda s: int((s >= 1).sum())),
        repeat_customers=("valid_orders", lambda s: int((s >= 2).sum())),
    ).reset_index()  # fmt: skip
    stages["engaged_rate"] = ratio(stages["engaged"], stages["signups"])
    stages["customer_rate"] = ratio(stages["customers"], stages["signups"])
    stages["repeat_rate"] = ratio(stages["repeat_customers"], stages["customers"])

    # ---- mart_cohort_retention
    members = first[["contact_id", "order_month", "channel"]].rename(columns={"order_month": "cohort_month"})
    members = pd.concat([members, members.assign(channel="all")], ignore_index=True)
    as_of_month = pd.Timestamp(as_of_date).to_period("M")
    rows = []
    counted = od[od["is_counted"] & od["contact_id"].notna()]
    for (cohort_month, channel), group in members.groupby(["cohort_month", "channel"]):
        ids = set(group["contact_id"])
        mine = counted[counted["contact_id"].isin(ids)].copy()
        # months between two month starts (plain date arithmetic: pandas periods cost ~20 us a row)
        mine["period"] = [
            (m.year - cohort_month.year) * 12 + m.month - cohort_month.month for m in mine["order_month"]
        ]
        periods = (as_of_month - pd.Timestamp(cohort_month).to_period("M")).n
        cumulative = 0.0
        for p in range(periods + 1):
            month = mine[mine["period"] == p]
            active = month[month["is_valid"]]["contact_id"].nunique()
            revenue = float(month["net_revenue"].sum())
            cumulative += revenue
            rows.append(
                {
                    "cohort_month": cohort_month,
                    "channel": channel,
                    "months_since_first_order": p,
                    "cohort_size": len(ids),
                    "active_customers": active,
                    "retention_rate": active / len(ids),
                    "net_revenue": revenue,
                    "cumulative_net_revenue": cumulative,
                    "ltv_per_customer": cumulative / len(ids),
                }
            )
    cohorts = pd.DataFrame(rows)

    # ---- mart_reactivation_candidates
    valid = od[od["is_valid"] & od["contact_id"].notna()]
    last_valid = valid.groupby("contact_id")["order_date"].max()
    days_since = last_valid.map(lambda d: (as_of_date - d).days)
    lapsed = days_since[days_since > reactivation_days]
    reactivation = pd.DataFrame(
        {
            "customer_id": lapsed.index,
            "days_since_last_order": lapsed.values,
            "orders_count": valid_counts.reindex(lapsed.index).values,
            "lifetime_net_revenue": counted.groupby("contact_id")["net_revenue"]
            .sum()
            .reindex(lapsed.index)
            .values,
        }
    )

    activity = _activity_monthly(od, first, as_of_date)
    economics = _unit_economics(funnel, cohorts, as_of_date)

    return Oracle(
        activity_monthly=activity,
        unit_economics=economics,
        orders=od,
        contacts=crm,
        funnel_daily=funnel,
        funnel_stages=stages,
        cohort_retention=cohorts,
        reactivation=reactivation,
        as_of_date=as_of_date,
        to_reporting=to_reporting,
        costs=all_costs,
    )


def _month_end(month) -> object:
    return (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()


def _activity_monthly(od: pd.DataFrame, first: pd.DataFrame, as_of_date) -> pd.DataFrame:
    """Growth accounting (SPEC §11) per month x channel (+ all), from the orders alone."""
    customers = od[od["contact_id"].notna()]
    active = customers[customers["is_valid"]][["contact_id", "order_month"]].drop_duplicates()
    # plain dicts: the loops below look up every active customer (a pandas lookup costs ~10 us)
    revenue = (
        customers[customers["is_counted"]]
        .groupby(["contact_id", "order_month"])["net_revenue"]
        .sum()
        .to_dict()
    )
    channel_of = dict(zip(first["contact_id"], first["channel"], strict=True))
    cohort_of = dict(zip(first["contact_id"], first["order_month"], strict=True))
    active_sets: dict = {}
    for cid, month in active.itertuples(index=False):
        active_sets.setdefault(month, set()).add(cid)
    first_month = pd.Timestamp(od["order_date"].min()).to_period("M")
    as_of_month = pd.Timestamp(as_of_date).to_period("M")
    months = [(first_month + i).to_timestamp().date() for i in range((as_of_month - first_month).n + 1)]
    channels = [*sorted(set(channel_of.values())), "all"]
    rows = []
    for i, month in enumerate(months):
        now_all = active_sets.get(month, set())
        before_all = active_sets.get(months[i - 1], set()) if i else set()
        complete = _month_end(month) <= as_of_date
        for channel in channels:

            def mine(ids, channel=channel):
                return {c for c in ids if channel == "all" or channel_of[c] == channel}

            now, before = mine(now_all), mine(before_all)
            new = {c for c in now if cohort_of[c] == month}
            retained = (now - new) & before
            resurrected = now - new - before
            churned = before - now

            def rev(ids, m=month):
                return float(sum(revenue.get((c, m), 0.0) for c in ids))

            first_loaded = i == 0
            known_churn = complete and not first_loaded
            rows.append(
                {
                    "activity_month": month,
                    "channel": channel,
                    "is_complete": complete,
                    "active_customers": len(now),
                    "new_customers": len(new),
                    "retained_customers": None if first_loaded else len(retained),
                    "resurrected_customers": None if first_loaded else len(resurrected),
                    "churned_customers": len(churned) if known_churn else None,
                    "quick_ratio": (len(new) + len(resurrected)) / len(churned)
                    if known_churn and churned
                    else None,
                    "retention_rate": len(retained) / len(before) if not first_loaded and before else None,
                    "net_revenue": rev(now),
                    "new_net_revenue": rev(new),
                    "retained_net_revenue": None if first_loaded else rev(retained),
                    "resurrected_net_revenue": None if first_loaded else rev(resurrected),
                    "churned_net_revenue": rev(churned, months[i - 1]) if known_churn else None,
                    "revenue_per_active": rev(now) / len(now) if now else None,
                }
            )
    return pd.DataFrame(rows)


def _unit_economics(funnel: pd.DataFrame, cohorts: pd.DataFrame, as_of_date) -> pd.DataFrame:
    """Spend, CAC, LTV_k, LTV:CAC and payback per acquisition month x channel (+ all)."""
    f = funnel.copy()
    f["acquisition_month"] = [d.replace(day=1) for d in f["report_date"]]  # dates: their month's first day
    f["unknown_new"] = np.where(f["spend"].isna(), f["new_customers"], 0)
    g = pd.concat([f, f.assign(channel="all")]).groupby(["acquisition_month", "channel"])
    e = g.agg(
        spend=("spend", lambda s: s.sum() if s.notna().any() else np.nan),
        new_customers=("new_customers", "sum"),
        new_customers_unknown_spend=("unknown_new", "sum"),
    ).reset_index()
    known = e["new_customers"] - e["new_customers_unknown_spend"]
    e["cac"] = (e["spend"] / known.where(known != 0)).astype(float)
    ltv = {
        (r.cohort_month, r.channel, r.months_since_first_order): r.ltv_per_customer
        for r in cohorts.itertuples()
        if _month_end(pd.Timestamp(r.cohort_month) + pd.DateOffset(months=int(r.months_since_first_order)))
        <= as_of_date
    }
    for k in (0, 1, 3, 6, 12):
        e[f"ltv_{k}"] = [
            ltv.get((m, c, k)) for m, c in zip(e["acquisition_month"], e["channel"], strict=True)
        ]
        e[f"ltv_{k}"] = e[f"ltv_{k}"].astype(float)
    for k in (3, 6, 12):
        e[f"ltv_to_cac_{k}"] = e[f"ltv_{k}"] / e["cac"].where(e["cac"] != 0)
    payback = []
    for r in e.itertuples():
        months = sorted(k for (m, c, k) in ltv if m == r.acquisition_month and c == r.channel)
        hit = [
            k for k in months if r.cac == r.cac and r.cac > 0 and round(ltv[(r.acquisition_month, r.channel, k)], 4) >= round(r.cac, 4)
        ]  # fmt: skip
        payback.append(hit[0] if hit else None)
    e["payback_month"] = pd.array(payback, dtype="Int64")
    return e
