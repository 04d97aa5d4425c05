"""The costs export (SPEC §11): affiliate and email costs that no ad platform reports.

Acquisition costs: affiliate commission per signup (per affiliate campaign, daily, from
``AFFILIATE_COSTS_START_DAY`` on: affiliate spend is unknown before), the affiliate network's
monthly fee (no campaign, EUR), email lead-gen media for the welcome series (weekly) and the email
platform's acquisition share (monthly, no campaign). Retention costs: the email platform's recall
share (monthly, no campaign) and an incentive budget on the send day of each email recall campaign.
"""

from __future__ import annotations

import numpy as np

from growthops.contracts import CHANNELS, COST_PURPOSES, COST_TYPES
from growthops.generator import params as P
from growthops.generator.basics import DAY, Calendar, Vocab


def _billing_days(cal: Calendar, first: int) -> np.ndarray:
    """The first day of each month, and the first billable day itself."""
    dom1 = np.nonzero(cal.dates.astype("datetime64[M]").astype("datetime64[D]") == cal.dates)[0]
    return np.unique(np.concatenate([[first], dom1[dom1 >= first]])) if first < cal.n_days else dom1[:0]


def _part(days: np.ndarray, channel: str, campaign: int, cost_type: str, purpose: str,
          cents: np.ndarray, currency: str) -> dict:  # fmt: skip
    n = len(days)
    return {
        "day": days.astype(np.int64), "channel": np.full(n, CHANNELS.index(channel)),
        "campaign": np.full(n, campaign), "cost_type": np.full(n, COST_TYPES.index(cost_type)),
        "purpose": np.full(n, COST_PURPOSES.index(purpose)), "amount": np.asarray(cents, dtype=np.int64),
        "currency": np.full(n, P.CURRENCIES.index(currency)),
    }  # fmt: skip


def _signups_per_day(cal: Calendar, c: dict, vocab: dict[str, Vocab], utm_campaign: str) -> np.ndarray:
    code = vocab["utm_campaign"].code(utm_campaign)
    return np.bincount(c["created"][c["utm_campaign"] == code] // DAY, minlength=cal.n_days)[: cal.n_days]


def make_costs(
    rng: np.random.Generator,
    cal: Calendar,
    c: dict,
    vocab: dict[str, Vocab],
    scale: float,
    recall: list[dict],
) -> tuple[dict[str, np.ndarray], Vocab]:
    """Cost rows sorted by day, and the vocabulary of their campaign column."""
    names = Vocab()
    parts = []
    aff_start = min(P.AFFILIATE_COSTS_START_DAY, cal.n_days)
    for key, cpa in P.AFFILIATE_CPA_USD_CENTS.items():
        n = _signups_per_day(cal, c, vocab, key)
        days = np.nonzero((n > 0) & (np.arange(cal.n_days) >= aff_start))[0]
        cents = np.rint(n[days] * cpa * rng.uniform(0.9, 1.1, len(days)))
        parts.append(_part(days, "affiliate", names.code(key), "commission", "acquisition", cents, "USD"))
    fee = max(5_000, round(P.AFFILIATE_NETWORK_FEE_EUR_AT_SCALE_1 * scale * 100))
    days = _billing_days(cal, aff_start)
    parts.append(_part(days, "affiliate", -1, "tool", "acquisition", np.full(len(days), fee), "EUR"))
    weekly = np.convolve(_signups_per_day(cal, c, vocab, "welcome-series"), np.ones(7, dtype=np.int64))[
        : cal.n_days
    ]
    days = np.nonzero((cal.dow == 0) & (weekly > 0))[0]
    cents = weekly[days] * P.EMAIL_SIGNUP_MEDIA_USD_CENTS
    parts.append(_part(days, "email", names.code("welcome-series"), "media", "acquisition", cents, "USD"))
    tool = max(10_000, round(P.EMAIL_TOOL_USD_AT_SCALE_1 * scale * 100))
    retention = round(tool * P.EMAIL_TOOL_RETENTION_SHARE)
    days = _billing_days(cal, 0)
    parts.append(_part(days, "email", -1, "tool", "acquisition", np.full(len(days), tool - retention), "USD"))
    parts.append(_part(days, "email", -1, "tool", "retention", np.full(len(days), retention), "USD"))
    for camp in recall:  # the costs export's retention rows of this campaign, by currency
        camp["retention_cost"] = {}
        if camp["channel"] == "email" and camp["treated"]:
            day = np.array([(np.datetime64(camp["send_day"]) - cal.dates[0]).astype(np.int64)])
            cents = np.array([camp["treated"] * P.RECALL_INCENTIVE_USD_CENTS])
            camp["retention_cost"] = {"USD": round(int(cents[0]) / 100, 2)}
            parts.append(
                _part(day, "email", names.code(camp["campaign_name"]), "other", "retention", cents, "USD")
            )
    rows = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((rows["purpose"], rows["cost_type"], rows["campaign"], rows["channel"], rows["day"]))
    return {k: v[order] for k, v in rows.items()}, names


def cost_facts(cal: Calendar, rows: dict[str, np.ndarray]) -> dict:
    """Per channel: first and last cost day, rows, and totals per purpose and currency."""
    out: dict[str, dict] = {}
    for ci in np.unique(rows["channel"]):
        sel = rows["channel"] == ci
        totals: dict[str, dict[str, float]] = {}
        for pi in np.unique(rows["purpose"][sel]):
            for cur in np.unique(rows["currency"][sel]):
                m = sel & (rows["purpose"] == pi) & (rows["currency"] == cur)
                if m.any():
                    cents = int(rows["amount"][m].sum())
                    totals.setdefault(COST_PURPOSES[pi], {})[P.CURRENCIES[cur]] = round(cents / 100, 2)
        out[CHANNELS[ci]] = {
            "first_day": cal.day(int(rows["day"][sel].min())).isoformat(),
            "last_day": cal.day(int(rows["day"][sel].max())).isoformat(),
            "rows": int(sel.sum()),
            "rows_without_campaign": int((sel & (rows["campaign"] < 0)).sum()),
            "totals": totals,
        }
    return out
