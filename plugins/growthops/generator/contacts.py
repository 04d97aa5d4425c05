"""Signups and the CRM: first-touch utm fields, countries, emails, lifecycle stages over time.

A contact's lifecycle is a ladder of timed events — signup (subscriber, lead or other), lead,
mql, sql, opportunity, customer, erasure — and the CRM exports a contact again on every day one
of them happens (the state at the end of that day), so stage history has real velocity.
"""

from __future__ import annotations

import numpy as np

from growthops.contracts import CHANNELS
from growthops.generator import params as P
from growthops.generator.ads import Campaigns
from growthops.generator.basics import (
    DAY,
    HOUR,
    INF,
    Calendar,
    Vocab,
    choice,
    last_event_emission,
    time_of_day,
)

CHANNEL_CODE = {name: i for i, name in enumerate(CHANNELS)}
PLATFORM_CHANNEL = np.array([CHANNEL_CODE[p.name] for p in P.PLATFORMS])


def make_signups(
    rng: np.random.Generator, cal: Calendar, camps: Campaigns, paid: np.ndarray, signup_base: float
) -> dict[str, np.ndarray]:
    """Paid signups (from ad performance) plus organic channels; sorted by signup time."""
    weekly_demand = np.asarray(P.WEEKLY_DEMAND)[cal.dow]
    day_parts = [paid[0]]
    chan_parts = [PLATFORM_CHANNEL[camps.platform[paid[1]]]]
    camp_parts = [paid[1]]
    for och in P.ORGANIC_CHANNELS:
        lam = signup_base * och.signup_share * cal.trend * cal.shape * weekly_demand
        days = np.repeat(np.arange(cal.n_days), rng.poisson(lam))
        day_parts.append(days)
        chan_parts.append(np.full(len(days), CHANNEL_CODE[och.name]))
        camp_parts.append(np.full(len(days), -1))
    c_day = np.concatenate(day_parts)
    created = c_day * DAY + time_of_day(rng, len(c_day))
    order = np.argsort(created, kind="stable")
    return {
        "num": np.arange(1, len(c_day) + 1, dtype=np.int64),
        "created": created[order],
        "channel": np.concatenate(chan_parts)[order],
        "campaign": np.concatenate(camp_parts)[order],
    }


def assign_utm(
    rng: np.random.Generator, cal: Calendar, camps: Campaigns, vocab: dict[str, Vocab], c: dict
) -> None:
    """First-touch utm_source / utm_medium / utm_campaign codes per contact (in place)."""
    n = len(c["created"])
    for name in ("utm_source", "utm_medium", "utm_campaign"):
        c[name] = np.full(n, -1, dtype=np.int64)
    camp_key_codes = np.array([vocab["utm_campaign"].code(k) for k in camps.keys], dtype=np.int64)
    for pi, platform in enumerate(P.PLATFORMS):
        rows = np.nonzero(c["channel"] == PLATFORM_CHANNEL[pi])[0]
        pick = choice(rng, [w for *_, w in platform.utm], len(rows))
        src = np.array([vocab["utm_source"].code(s) for s, _, _ in platform.utm])
        med = np.array([vocab["utm_medium"].code(m) for _, m, _ in platform.utm])
        c["utm_source"][rows] = src[pick]
        c["utm_medium"][rows] = med[pick]
        keep = rng.random(len(rows)) >= P.PAID_CAMPAIGN_MISSING_UTM_CAMPAIGN
        c["utm_campaign"][rows[keep]] = camp_key_codes[c["campaign"][rows[keep]]]
    months = cal.dates.astype("datetime64[M]").astype(str)
    for och in P.ORGANIC_CHANNELS:
        rows = np.nonzero(c["channel"] == CHANNEL_CODE[och.name])[0]
        pick = choice(rng, [w for *_, w in och.utm], len(rows))
        for oi, (src, med, camp, _w) in enumerate(och.utm):
            sel = rows[pick == oi]
            c["utm_source"][sel] = vocab["utm_source"].code(src)
            c["utm_medium"][sel] = vocab["utm_medium"].code(med)
            if camp and "{month}" in camp:
                month_codes = np.array([vocab["utm_campaign"].code(camp.format(month=m)) for m in months])
                c["utm_campaign"][sel] = month_codes[c["created"][sel] // DAY]
            else:
                c["utm_campaign"][sel] = vocab["utm_campaign"].code(camp)


def global_countries(vocab: dict[str, Vocab]) -> tuple[np.ndarray, list[float]]:
    return (
        np.array([vocab["country"].code(c) for c, _ in P.GLOBAL_COUNTRIES]),
        [w for _, w in P.GLOBAL_COUNTRIES],
    )


def assign_country_and_email(
    rng: np.random.Generator, camps: Campaigns, vocab: dict[str, Vocab], c: dict
) -> None:
    """Country (campaign market for paid signups, global mix otherwise) and email parts (in place)."""
    n = len(c["created"])
    country = np.full(n, -1, dtype=np.int64)
    market_of_campaign = np.array([P.MARKETS.index(m) for m in camps.market])
    paid = c["campaign"] >= 0
    contact_market = np.where(paid, market_of_campaign[np.maximum(c["campaign"], 0)], -1)
    for mi, market in enumerate(P.MARKETS):
        rows = np.nonzero(contact_market == mi)[0]
        options = P.MARKET_COUNTRIES[market]
        codes = np.array([vocab["country"].code(code) for code, _ in options])
        country[rows] = codes[choice(rng, [w for _, w in options], len(rows))]
    rows = np.nonzero(~paid)[0]
    global_codes, global_weights = global_countries(vocab)
    country[rows] = global_codes[choice(rng, global_weights, len(rows))]
    c["country"] = country
    c["email_first"] = rng.integers(0, len(P.FIRST_NAMES), n)
    c["email_last"] = rng.integers(0, len(P.LAST_NAMES), n)
    c["email_suffix"] = rng.integers(1, 10_000, n)
    c["email_domain"] = choice(rng, [w for _, w in P.EMAIL_DOMAINS], n)
    c["email_capitalised"] = rng.random(n) < 0.03


def conversion_and_erasure(rng: np.random.Generator, end_s: int, c: dict) -> dict[str, np.ndarray]:
    """First order, customer and erasure times per contact (INF = never)."""
    n = len(c["created"])
    created = c["created"]
    conversion = np.array([P.CUSTOMER_CONVERSION[name] for name in CHANNELS])[c["channel"]]
    converts = rng.random(n) < conversion
    same_session = rng.random(n) < P.SAME_SESSION_FIRST_ORDER
    lag = np.where(
        same_session,
        rng.exponential(P.SAME_SESSION_MEAN_MINUTES * 60, n),
        rng.exponential(P.FIRST_ORDER_MEAN_DAYS * DAY, n),
    )
    t_first = np.where(converts, created + 60 + lag.astype(np.int64), INF)
    erasure = rng.random(n) < P.ERASURE_SHARE
    t_del = np.where(
        erasure, created + DAY + rng.exponential(P.ERASURE_MEAN_DAYS * DAY, n).astype(np.int64), INF
    )
    t_del = np.where(t_del < end_s, t_del, INF)
    t_first = np.where(t_first < t_del, t_first, INF)  # erased before buying: never buys
    t_first = np.where(t_first < end_s, t_first, INF)
    is_customer = t_first < INF
    t_cust = np.where(is_customer, t_first + rng.integers(60, 1800, n), INF)
    t_del = np.where((t_del < INF) & (t_del <= t_cust) & is_customer, t_cust + HOUR, t_del)
    return {
        "converts": converts,
        "t_first": t_first,
        "t_cust": t_cust,
        "t_del": t_del,
        "is_customer": is_customer,
    }


def stage_ladder(rng: np.random.Generator, vocab: dict[str, Vocab], c: dict, life: dict) -> list[tuple]:
    """(time, stage code) per lifecycle event, in ladder order; INF = the contact never gets there."""
    n = len(c["created"])
    created, t_first, t_del = c["created"], life["t_first"], life["t_del"]
    engage_draw = rng.random(n)
    frac = rng.uniform(0.2, 0.9, n)
    gap = t_first - created
    t_eng = np.where(
        life["converts"],
        np.where((engage_draw < P.ENGAGE_BEFORE_FIRST_ORDER) & (gap > 2 * HOUR) & life["is_customer"],
                 created + (gap * frac).astype(np.int64), INF),
        np.where(engage_draw < P.ENGAGE_NON_CUSTOMER,
                 created + HOUR + rng.exponential(P.ENGAGE_MEAN_DAYS * DAY, n).astype(np.int64), INF),
    )  # fmt: skip
    stage0 = np.array([vocab["stage"].code(s) for s, _ in P.INITIAL_STAGES])[
        choice(rng, [w for _, w in P.INITIAL_STAGES], n)
    ]
    target = choice(rng, [w for _, w in P.ENGAGED_STAGES], n)  # 0 mql, 1 sql, 2 opportunity
    c["ghost"] = life["is_customer"] & (rng.random(n) < P.GHOST_CUSTOMER_SHARE)
    # later draws: a stream of their own would change nothing above
    # subscriber -> lead some days after signup, before anything else happens
    later = np.minimum(np.minimum(t_eng, life["t_cust"]), t_del)
    t_lead = created + HOUR + rng.exponential(P.LEAD_MEAN_DAYS * DAY, n).astype(np.int64)
    to_lead = (stage0 == vocab["stage"].code("subscriber")) & (rng.random(n) < P.SUBSCRIBER_TO_LEAD)
    t_lead = np.where(to_lead & (t_lead < later), t_lead, INF)
    # mql -> sql -> opportunity: steps between engagement and the first order (or days apart)
    ceiling = np.minimum(np.where(life["is_customer"], t_first, INF), t_del)
    span = np.where(life["is_customer"], t_first - t_eng, 0)
    step = lambda: np.where(  # noqa: E731
        life["is_customer"], (span * rng.uniform(0.1, 0.45, n)).astype(np.int64),
        rng.exponential(P.ENGAGE_STEP_MEAN_DAYS * DAY, n).astype(np.int64) + HOUR,
    )  # fmt: skip
    t_sql = np.where((target >= 1) & (t_eng < INF), t_eng + step(), INF)
    t_opp = np.where((target >= 2) & (t_sql < INF), t_sql + step(), INF)
    t_sql = np.where(t_sql < ceiling, t_sql, INF)
    t_opp = np.where((t_opp < ceiling) & (t_sql < INF), t_opp, INF)
    t_eng = np.where(t_eng < t_del, t_eng, INF)
    code = vocab["stage"].code
    return [
        (created, stage0),
        (t_lead, code("lead")),
        (t_eng, code("mql")),
        (t_sql, code("sql")),
        (t_opp, code("opportunity")),
        (life["t_cust"], code("customer")),
    ]


def crm_rows(ladder: list[tuple], t_del: np.ndarray, ghost: np.ndarray, end_s: int) -> dict[str, np.ndarray]:
    """CRM export rows: one per contact and day it changed (its state at the end of that day)."""
    n = len(t_del)
    stage_at_del = np.full(n, -1, dtype=np.int64)
    for t, stage in ladder:  # the last stage reached before the erasure
        stage_at_del = np.where(t < t_del, stage, stage_at_del)
    events = [*ladder, (t_del, stage_at_del)]
    emitted = last_event_emission([t for t, _ in events], end_s)
    idx_parts, upd_parts, stage_parts, del_parts = [], [], [], []
    for k, (t, stage) in enumerate(events):
        idx = np.nonzero(emitted[k] & ~ghost)[0]
        idx_parts.append(idx)
        upd_parts.append(t[idx])
        stage_parts.append(stage[idx] if isinstance(stage, np.ndarray) else np.full(len(idx), stage))
        del_parts.append(np.full(len(idx), k == len(events) - 1))
    contact = np.concatenate(idx_parts)
    updated = np.concatenate(upd_parts)
    order = np.argsort((updated // DAY) * (n + 1) + contact, kind="stable")
    return {
        "export_day": (updated // DAY)[order],
        "contact": contact[order],
        "updated": updated[order],
        "stage": np.concatenate(stage_parts)[order],
        "is_deleted": np.concatenate(del_parts)[order],
    }


def stage_change_facts(rows: dict[str, np.ndarray]) -> dict[str, int]:
    """Exported rows whose lifecycle_stage differs from the contact's previous exported row."""
    order = np.lexsort((rows["export_day"], rows["contact"]))
    contact, stage, day = rows["contact"][order], rows["stage"][order], rows["export_day"][order]
    change = np.zeros(len(order), dtype=bool)
    change[1:] = (contact[1:] == contact[:-1]) & (stage[1:] != stage[:-1])
    return {
        "crm_stage_changes": int(change.sum()),
        "crm_stage_change_days": len(np.unique(day[change])),
        "crm_contacts_with_stage_change": len(np.unique(contact[change])),
    }
