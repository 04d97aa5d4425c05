"""Recall campaigns with a holdout and a planted true lift (SPEC §11).

For each campaign, in send order: the lapsed customers at the send day (latest valid order more
than ``RECALL_LAPSED_DAYS`` days before) form the pool; a share of it is targeted, each contact
randomly in the holdout (assigned, not sent) or the treated arm, plus a few contacts that are not
lapsed (they count as excluded) and a few unknown to the shop and the CRM. A targeted lapsed contact
reactivates (places a valid order within the window after its ``sent_at``) with the planted
probability of its arm: orders that happen anyway count, and planted orders top them up so that
each arm's expected rate is exactly its planted probability. Planted orders are real orders: they
join the orders export (always valid), and later campaigns see them when they decide who is lapsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from growthops.generator import params as P
from growthops.generator.basics import DAY, HOUR, INF, Calendar

SHIFT = np.int64(2**32)  # key = contact * SHIFT + time (times are < 2**31 seconds)


class ValidOrders:
    """Valid orders of known contacts, searchable per contact by time."""

    def __init__(self, contact: np.ndarray, created: np.ndarray) -> None:
        self.keys = np.sort(contact.astype(np.int64) * SHIFT + created.astype(np.int64))

    def last_before(self, contact: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Time of the latest order with created < t, else -1."""
        i = np.searchsorted(self.keys, contact * SHIFT + t, side="left") - 1
        k = self.keys[np.maximum(i, 0)] if len(self.keys) else np.zeros(len(contact), np.int64)
        ok = (i >= 0) & (k // SHIFT == contact)
        return np.where(ok, k % SHIFT, -1)

    def first_after(self, contact: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Time of the earliest order with created > t, else INF."""
        i = np.searchsorted(self.keys, contact * SHIFT + t, side="right")
        k = (
            self.keys[np.minimum(i, len(self.keys) - 1)]
            if len(self.keys)
            else np.zeros(len(contact), np.int64)
        )
        ok = (i < len(self.keys)) & (k // SHIFT == contact)
        return np.where(ok, k % SHIFT, INF)


@dataclass
class Recall:
    """Message rows of recall campaigns, the planted orders and the truth per campaign."""

    rows: dict[str, list[np.ndarray]] = field(
        default_factory=lambda: {k: [] for k in ("contact", "campaign", "sent", "holdout")}
    )
    lift_contact: list[np.ndarray] = field(default_factory=list)
    lift_created: list[np.ndarray] = field(default_factory=list)
    campaigns: list[dict] = field(default_factory=list)
    first_rows: list[dict[str, np.ndarray]] = field(default_factory=list)  # per campaign: contact, sent, arm


def campaign_days(cal: Calendar) -> list[int]:
    """Send days: mature ones (the whole window inside the range), then one still immature."""
    last = cal.n_days - 1 - P.RECALL_WINDOW_DAYS - 1
    days = list(range(P.RECALL_FIRST_DAY, last + 1, P.RECALL_EVERY_DAYS))
    immature = cal.n_days - 1 - P.RECALL_IMMATURE_DAYS_BEFORE_END
    return [*days, immature] if days and immature > days[-1] else days


def _latest(base: ValidOrders, lift: ValidOrders, contact: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.maximum(base.last_before(contact, t), lift.last_before(contact, t))


def _next(base: ValidOrders, lift: ValidOrders, contact: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.minimum(base.first_after(contact, t), lift.first_after(contact, t))


def _audience(rng: np.random.Generator, day: int, customers: np.ndarray, last: np.ndarray,
              n_contacts: int, share: float) -> np.ndarray:  # fmt: skip
    """Contact indices targeted on ``day``: part of the lapsed pool, a few active customers and a
    few contacts unknown to the shop and the CRM (indices >= n_contacts)."""
    last_day = np.where(last >= 0, last // DAY, -(10**9))
    lapsed = customers[(last >= 0) & (day - last_day > P.RECALL_LAPSED_DAYS)]
    active = customers[(last >= 0) & (day - last_day <= P.RECALL_LAPSED_DAYS)]
    chosen = lapsed[rng.random(len(lapsed)) < share]
    n_extra = int(np.ceil(len(chosen) * P.RECALL_NOT_LAPSED_SHARE))
    extra = rng.choice(active, min(n_extra, len(active)), replace=False) if len(active) else active
    n_unknown = int(np.ceil(len(chosen) * P.RECALL_UNKNOWN_SHARE))
    pool = max(50, n_contacts // 50)
    unknown = n_contacts + rng.choice(pool, min(n_unknown, pool), replace=False)
    audience = np.concatenate([chosen, extra, unknown]).astype(np.int64)
    return audience[rng.permutation(len(audience))]


def _plant(rng: np.random.Generator, tmpl: dict, lapsed: np.ndarray, holdout: np.ndarray,
           natural: np.ndarray) -> tuple[np.ndarray, dict]:  # fmt: skip
    """Which lapsed contacts get a planted order, so each arm's rate is its planted probability."""
    r = float(natural[lapsed].mean()) if lapsed.any() else 0.0
    probs = {}
    plant = np.zeros(len(lapsed), dtype=bool)
    for arm, p, mask in (("treated", tmpl["p_treated"], ~holdout), ("holdout", tmpl["p_holdout"], holdout)):
        q = max(0.0, (p - r) / (1.0 - r)) if r < 1 else 0.0
        probs[arm] = r + (1.0 - r) * q  # = p unless orders that happen anyway already exceed it
        plant |= lapsed & mask & ~natural & (rng.random(len(lapsed)) < q)
    return plant, {"natural_rate": round(r, 6), "p_treated": round(probs["treated"], 6),
                   "p_holdout": round(probs["holdout"], 6)}  # fmt: skip


def _crossovers(rng: np.random.Generator, lapsed: np.ndarray, sent: np.ndarray, end_s: int,
                has_holdout: bool) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Rows whose contact gets a later row in the other arm of the same campaign, and its time."""
    later = sent + rng.integers(DAY, 3 * DAY, len(sent))
    pick = lapsed & (rng.random(len(sent)) < P.RECALL_CROSSOVER_SHARE) & (later < end_s) & has_holdout
    idx = np.nonzero(pick)[0]
    return idx, later[idx]


def _one_campaign(rng, ci, day, tmpl, state, recall: Recall) -> None:
    cal, base, customers, t_del, n_contacts = (state[k] for k in ("cal", "base", "customers", "t_del", "n"))
    lift = ValidOrders(np.concatenate([np.empty(0, np.int64), *recall.lift_contact]),
                       np.concatenate([np.empty(0, np.int64), *recall.lift_created]))  # fmt: skip
    eligible = customers[t_del[customers] > day * DAY]  # not erased
    last_at_day = _latest(base, lift, eligible, np.full(len(eligible), day * DAY, np.int64))
    audience = _audience(rng, day, eligible, last_at_day, n_contacts, P.RECALL_AUDIENCE_SHARE)
    sent = day * DAY + 8 * HOUR + rng.integers(0, 10 * HOUR, len(audience))
    holdout = rng.random(len(audience)) < tmpl["holdout_share"]
    known = audience < n_contacts
    last = np.where(known, _latest(base, lift, np.where(known, audience, 0), sent), -1)
    lapsed = known & (last >= 0) & (day - last // DAY > P.RECALL_LAPSED_DAYS)
    window_end = sent + P.RECALL_WINDOW_DAYS * DAY
    natural = lapsed & (_next(base, lift, np.where(known, audience, 0), sent) <= window_end)
    plant, probs = _plant(rng, tmpl, lapsed, holdout, natural)
    created = sent + rng.integers(60, P.RECALL_WINDOW_DAYS * DAY + 1, len(audience))
    plant &= (created < cal.end_seconds) & (created < t_del[np.where(known, audience, 0)])
    recall.lift_contact.append(audience[plant])
    recall.lift_created.append(created[plant])
    cross, cross_sent = _crossovers(rng, lapsed, sent, cal.end_seconds, tmpl["holdout_share"] > 0)
    rows = recall.rows
    rows["contact"] += [audience, audience[cross]]
    rows["campaign"] += [np.full(len(audience) + len(cross), ci)]
    rows["sent"] += [sent, cross_sent]
    rows["holdout"] += [holdout, ~holdout[cross]]
    recall.first_rows.append({"contact": audience[lapsed], "sent": sent[lapsed], "holdout": holdout[lapsed]})
    recall.campaigns.append({
        **tmpl["meta"], "send_day": cal.day(day).isoformat(), **probs,
        "is_mature": bool(day * DAY + 18 * HOUR + P.RECALL_WINDOW_DAYS * DAY <= cal.end_seconds),
        "holdout_share": tmpl["holdout_share"], "has_holdout": tmpl["holdout_share"] > 0,
        "contacts": len(audience), "treated": int((lapsed & ~holdout).sum()),
        "holdout": int((lapsed & holdout).sum()), "excluded_not_lapsed": int((~lapsed).sum()),
        "unknown_contacts": int((~known).sum()), "crossovers": len(cross),
        "message_rows": int(len(audience) + len(cross)), "planted_orders": int(plant.sum()),
    })  # fmt: skip


def simulate_recall(
    rng: np.random.Generator, cal: Calendar, contact: np.ndarray, created: np.ndarray, valid: np.ndarray,
    t_del: np.ndarray, n_contacts: int,
) -> Recall:  # fmt: skip
    """Recall campaigns over ``cal`` against the valid orders (contact, created) of known contacts."""
    sel = valid & (contact >= 0)
    state = {
        "cal": cal, "base": ValidOrders(contact[sel], created[sel]), "n": n_contacts,
        "customers": np.unique(contact[sel]), "t_del": np.append(t_del, INF),
    }  # fmt: skip
    recall = Recall()
    for ci, day in enumerate(campaign_days(cal)):
        send = cal.day(day)
        tmpl = dict(P.RECALL_TEMPLATES[ci % len(P.RECALL_TEMPLATES)])
        tmpl["meta"] = {
            "campaign_id": f"RC-{send:%Y%m%d}-{ci + 1:03d}",
            "campaign_name": f"Recall {send:%Y-%m} {tmpl['label']}",
            "channel": tmpl["channel"],
            "window_days": P.RECALL_WINDOW_DAYS,
            "lapsed_days": P.RECALL_LAPSED_DAYS,
        }
        _one_campaign(rng, ci, day, tmpl, state, recall)
    return recall


def recall_outcomes(recall: Recall, contact: np.ndarray, created: np.ndarray, valid: np.ndarray) -> None:
    """Realised reactivations per arm on the final orders (one order may count in two campaigns)."""
    sel = valid & (contact >= 0)
    final = ValidOrders(contact[sel], created[sel])
    for meta, first in zip(recall.campaigns, recall.first_rows, strict=True):
        nxt = final.first_after(first["contact"], first["sent"])
        hit = nxt <= first["sent"] + P.RECALL_WINDOW_DAYS * DAY
        for arm, mask in (("treated", ~first["holdout"]), ("holdout", first["holdout"])):
            n = int(mask.sum())
            meta[f"{arm}_reactivated"] = int((hit & mask).sum())
            meta[f"{arm}_rate"] = round(meta[f"{arm}_reactivated"] / n, 6) if n else None
        meta["expected_lift"] = round(meta["p_treated"] - meta["p_holdout"], 6)
        meta["expected_incremental_reactivations"] = round(meta["expected_lift"] * meta["treated"], 3)
