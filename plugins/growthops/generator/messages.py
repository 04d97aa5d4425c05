"""The messaging tool's export (SPEC §11): recall rows plus onboarding and newsletter messages.

Rows are sorted by sent time and numbered in that order (``message_id``). Contact numbers above
the number of signups are contacts the tool knows and neither the shop nor the CRM does.
"""

from __future__ import annotations

import numpy as np

from growthops.contracts import MESSAGE_CHANNELS, MESSAGE_PURPOSES
from growthops.generator import params as P
from growthops.generator.basics import DAY, HOUR, INF, Calendar
from growthops.generator.recall import Recall


def _campaign(cid: str, name: str, channel: str, purpose: str) -> dict:
    return {"campaign_id": cid, "campaign_name": name, "channel": channel, "purpose": purpose}


def _onboarding(rng: np.random.Generator, c: dict, t_del: np.ndarray, end_s: int, first: int) -> tuple:
    """Welcome messages shortly after signup (email, some in the app)."""
    n = len(c["created"])
    gets = (rng.random(n) < P.ONBOARDING_SHARE) & ~c["ghost"]
    in_app = rng.random(n) < P.ONBOARDING_IN_APP
    sent = c["created"] + rng.integers(300, 2 * HOUR, n)
    idx = np.nonzero(gets & (sent < end_s) & (sent < t_del))[0]
    campaigns = [_campaign("WS-EMAIL", "Welcome Series", "email", "onboarding"),
                 _campaign("WS-INAPP", "Welcome Tour In-App", "in_app", "onboarding")]  # fmt: skip
    return idx, sent[idx], first + in_app[idx].astype(np.int64), campaigns


def _newsletters(rng: np.random.Generator, cal: Calendar, c: dict, t_del: np.ndarray, first: int) -> tuple:
    """Weekly newsletters (Tuesdays) to a sample of the contacts so far, one campaign per month."""
    n = len(c["created"])
    unknown_pool = max(50, n // 50)
    months: dict[str, int] = {}
    parts: list[tuple] = []
    for day in np.nonzero(cal.dow == 1)[0]:
        send = int(day) * DAY + 9 * HOUR
        n_before = int(np.searchsorted(c["created"], send))
        pick = np.nonzero(rng.random(n_before) < P.NEWSLETTER_SHARE)[0]
        pick = pick[(t_del[pick] > send) & ~c["ghost"][pick]]
        n_unknown = int(np.ceil(len(pick) * P.NEWSLETTER_UNKNOWN_SHARE))
        unknown = n + rng.choice(unknown_pool, min(n_unknown, unknown_pool), replace=False)
        month = f"{cal.day(int(day)):%Y-%m}"
        code = months.setdefault(month, first + len(months))
        contact = np.concatenate([pick, unknown]).astype(np.int64)
        parts.append((contact, send + rng.integers(0, HOUR, len(contact)), np.full(len(contact), code)))
    campaigns = [
        _campaign(f"NL-{m.replace('-', '')}", f"Newsletter {m}", "email", "newsletter") for m in months
    ]
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64), campaigns
    return (*(np.concatenate([p[k] for p in parts]) for k in range(3)), campaigns)


def make_messages(
    rng: np.random.Generator, cal: Calendar, c: dict, t_del: np.ndarray, recall: Recall
) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Every message row sorted by sent time, and the campaign table its ``campaign`` codes index."""
    campaigns = [
        _campaign(m["campaign_id"], m["campaign_name"], m["channel"], "recall") for m in recall.campaigns
    ]
    tmpl_of = [P.RECALL_TEMPLATES[i % len(P.RECALL_TEMPLATES)] for i in range(len(campaigns))]
    cat = lambda key: np.concatenate([np.empty(0, np.int64), *recall.rows[key]]).astype(np.int64)  # noqa: E731
    r_contact, r_campaign, r_sent = cat("contact"), cat("campaign"), cat("sent")
    r_holdout = np.concatenate([np.empty(0, bool), *recall.rows["holdout"]])
    t_del_all = np.where(t_del < INF, t_del, INF)
    o_idx, o_sent, o_code, o_camps = _onboarding(rng, c, t_del_all, cal.end_seconds, len(campaigns))
    campaigns += o_camps
    n_idx, n_sent, n_code, n_camps = _newsletters(rng, cal, c, t_del_all, len(campaigns))
    campaigns += n_camps
    contact = np.concatenate([r_contact, o_idx, n_idx])
    rows = {
        "contact": contact,
        "campaign": np.concatenate([r_campaign, o_code, n_code]),
        "sent": np.concatenate([r_sent, o_sent, n_sent]),
        "holdout": np.concatenate([r_holdout, np.zeros(len(o_idx) + len(n_idx), dtype=bool)]),
    }
    cost = np.array(
        [t["cost"] if t["cost"] is not None else -1 for t in tmpl_of] + [-1] * (len(campaigns) - len(tmpl_of))
    )
    currency = [t["currency"] for t in tmpl_of] + [None] * (len(campaigns) - len(tmpl_of))
    rows["cost"] = np.where(rows["holdout"], -1, cost[rows["campaign"]]) if len(cost) else rows["campaign"]
    order = np.lexsort((rows["contact"], rows["campaign"], rows["sent"]))
    rows = {k: v[order] for k, v in rows.items()}
    rows["export_day"] = rows["sent"] // DAY
    for k, camp in enumerate(campaigns):
        camp["cost_currency"] = currency[k]
    _recall_message_costs(rows, recall.campaigns, currency)
    return rows, campaigns


def _recall_message_costs(rows: dict[str, np.ndarray], recall: list[dict], currency: list) -> None:
    """Per recall campaign: the sum of its per-message costs (sent rows only) and their currency."""
    sel = (rows["campaign"] < len(recall)) & (rows["cost"] >= 0)
    units = np.bincount(rows["campaign"][sel], weights=rows["cost"][sel], minlength=len(recall))
    for k, meta in enumerate(recall):
        meta["message_cost"] = round(float(units[k]) / 10_000, 4) if currency[k] else None
        meta["message_cost_currency"] = currency[k]


def message_facts(rows: dict[str, np.ndarray], campaigns: list[dict], in_crm: np.ndarray) -> dict:
    """Counts of the messages export, by purpose and channel."""
    purpose = np.array([MESSAGE_PURPOSES.index(c["purpose"]) for c in campaigns], dtype=np.int64)
    channel = np.array([MESSAGE_CHANNELS.index(c["channel"]) for c in campaigns], dtype=np.int64)
    known = np.zeros(len(rows["contact"]), dtype=bool)
    inside = rows["contact"] < len(in_crm)
    known[inside] = in_crm[rows["contact"][inside]]
    p = purpose[rows["campaign"]] if len(purpose) else rows["campaign"]
    ch = channel[rows["campaign"]] if len(channel) else rows["campaign"]
    return {
        "rows": len(rows["contact"]),
        "holdout_rows": int(rows["holdout"].sum()),
        "rows_with_cost": int((rows["cost"] >= 0).sum()),
        "rows_to_contacts_unknown_to_crm": int((~known).sum()),
        "by_purpose": {
            name: int((p == i).sum()) for i, name in enumerate(MESSAGE_PURPOSES) if (p == i).any()
        },
        "by_channel": {
            name: int((ch == i).sum()) for i, name in enumerate(MESSAGE_CHANNELS) if (ch == i).any()
        },
    }


def redelivered_days(rng: np.random.Generator, rows: dict[str, np.ndarray], n_days: int) -> list[int]:
    """Days whose file the tool delivers twice, unchanged (same path, same bytes)."""
    days = np.unique(rows["export_day"])
    days = days[(days > 0) & (days < n_days)]
    pick = rng.random(len(days)) < P.MESSAGES_REDELIVERY_SHARE
    if len(days) and not pick.any():
        pick[int(rng.integers(0, len(days)))] = True
    return [int(d) for d in days[pick]]
