"""Shop orders: repeat purchasing with churn and dormant spells, guests, status lifecycle, money.

The pipeline is split so that the recall simulation can see which orders are valid before it adds
the reactivation orders it plants: :func:`contact_order_times` and :func:`guest_order_times` draw
when orders happen, :func:`lifecycle` draws what happens to each (forced to stay valid for planted
orders), :func:`assemble` sorts everything by creation time, prices it and builds the export rows.
"""

from __future__ import annotations

import numpy as np

from growthops.generator import params as P
from growthops.generator.basics import (
    DAY,
    HOUR,
    INF,
    Calendar,
    Vocab,
    choice,
    last_event_emission,
    round_money,
    time_of_day,
    whole_unit_mask,
)


def _demand_cdf(cal: Calendar, order_norm: float) -> tuple[np.ndarray, np.ndarray]:
    weights = cal.shape * np.asarray(P.WEEKLY_DEMAND)[cal.dow] / order_norm
    return weights, np.concatenate([[0.0], np.cumsum(weights)])


def contact_order_times(
    rng: np.random.Generator, pause_rng: np.random.Generator, cal: Calendar, order_norm: float, life: dict
) -> dict[str, np.ndarray]:
    """First and repeat orders of customers: (time, contact index, is_first), unsorted."""
    weights, cum = _demand_cdf(cal, order_norm)

    def cdf(x: np.ndarray) -> np.ndarray:
        k = np.clip(np.floor(x).astype(np.int64), 0, cal.n_days - 1)
        return cum[k] + weights[k] * np.clip(x - k, 0.0, 1.0)

    cust = np.nonzero(life["is_customer"])[0]
    first_t = life["t_first"][cust]
    t_del = life["t_del"][cust]
    n_cust = len(cust)
    one_and_done = rng.random(n_cust) < P.ONE_AND_DONE
    lifetime_days = rng.exponential(P.LIFETIME_MEAN_DAYS, n_cust)
    del_day = np.where(t_del < INF, t_del // DAY, cal.n_days).astype(float)
    a = (first_t // DAY + 1).astype(float)
    b = np.minimum(np.minimum(first_t / DAY + lifetime_days, float(cal.n_days)), del_day)
    window = np.where((b > a) & ~one_and_done, cdf(b) - cdf(np.minimum(a, b)), 0.0)
    sigma = P.REPEAT_RATE_SIGMA
    rate = np.minimum(P.REPEAT_RATE * rng.lognormal(-(sigma**2) / 2, sigma, n_cust), P.MAX_DAILY_RATE)
    owner = np.repeat(np.arange(n_cust), rng.poisson(rate * window))
    u = cdf(a)[owner] + rng.random(len(owner)) * window[owner]
    rep_day = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, cal.n_days - 1)
    rep_t = rep_day * DAY + time_of_day(rng, len(owner))
    rep_t, owner = _dormant_spells(pause_rng, first_t, t_del, cal.end_seconds, rep_t, owner)
    return {
        "created": np.concatenate([first_t, rep_t]).astype(np.int64),
        "contact": np.concatenate([cust, cust[owner]]),
        "first": np.concatenate([np.ones(n_cust, dtype=bool), np.zeros(len(owner), dtype=bool)]),
    }


def _dormant_spells(
    rng: np.random.Generator,
    first_t: np.ndarray,
    t_del: np.ndarray,
    end_s: int,
    rep_t: np.ndarray,
    owner: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Some customers stop buying for whole weeks (> reactivation days) and then come back: their
    repeat orders after the spell's start move by its length (whole weeks keep the weekday mix)."""
    n_cust = len(first_t)
    has_spell = rng.random(n_cust) < P.DORMANT_SPELL_SHARE
    spell_start = first_t + (rng.exponential(P.DORMANT_SPELL_START_MEAN_DAYS, n_cust) * DAY).astype(np.int64)
    spell_weeks = rng.integers(P.DORMANT_SPELL_WEEKS[0], P.DORMANT_SPELL_WEEKS[1] + 1, n_cust)
    shift = np.where(has_spell[owner] & (rep_t >= spell_start[owner]), spell_weeks[owner] * 7 * DAY, 0)
    moved = rep_t + shift
    keep = (moved < end_s) & (moved < t_del[owner])
    return moved[keep], owner[keep]


def guest_order_times(rng: np.random.Generator, contact_times: np.ndarray, end_s: int) -> np.ndarray:
    """Guest checkouts, a share of all orders, near the time of contact orders."""
    n = len(contact_times)
    n_guest = int(rng.poisson(P.GUEST_ORDER_SHARE / (1 - P.GUEST_ORDER_SHARE) * n)) if n else 0
    base = rng.integers(0, max(n, 1), n_guest)
    if not n_guest:
        return np.empty(0, np.int64)
    return np.clip(contact_times[base] + rng.integers(-4 * HOUR, 4 * HOUR, n_guest), 0, end_s - 1)


def lifecycle(
    rng: np.random.Generator, created: np.ndarray, forced_valid: bool = False
) -> dict[str, np.ndarray]:
    """Status event times per order: created -> (paid) -> cancelled | (shipped) -> delivered -> refunded.

    ``forced_valid`` (planted reactivation orders): paid at once, never cancelled or fully refunded.
    """
    n = len(created)
    pending = (rng.random(n) < P.STARTS_PENDING) & (not forced_valid)
    draw = rng.random(n)
    pend_cancel = pending & (draw < P.PENDING_CANCELLED)
    pend_paid = pending & ~pend_cancel
    quick = rng.random(n) < 0.7
    pay_delay = np.where(
        quick, 60 + rng.exponential(30 * 60, n).astype(np.int64), rng.integers(12 * HOUR, 72 * HOUR, n)
    )
    t_paid = np.where(pend_paid, created + pay_delay, INF)
    paid_at = np.where(pending, t_paid, created)
    paid_cancel = ~pending & (draw < P.PAID_CANCELLED) & (not forced_valid)
    t_cancel = np.where(
        pend_cancel,
        created + rng.integers(HOUR, 48 * HOUR, n),
        np.where(paid_cancel, created + rng.integers(600, 20 * HOUR, n), INF),
    )
    fulfilled = ~pend_cancel & ~paid_cancel
    digital = rng.random(n) < P.DIGITAL_SHARE
    t_ship = np.where(fulfilled & ~digital, paid_at + rng.integers(6 * HOUR, 48 * HOUR, n), INF)
    t_deliv = np.where(
        fulfilled,
        np.where(digital, paid_at + rng.integers(60, 600, n), t_ship + rng.integers(DAY, 5 * DAY, n)),
        INF,
    )
    draw = rng.random(n)
    full_refund = fulfilled & (draw < P.FULL_REFUND) & (not forced_valid)
    partial_refund = fulfilled & (draw >= P.FULL_REFUND) & (draw < P.FULL_REFUND + P.PARTIAL_REFUND)
    t_refund = np.where(full_refund | partial_refund, t_deliv + rng.integers(2 * DAY, 30 * DAY, n), INF)
    return {
        "pending": pending, "t_paid": t_paid, "t_cancel": t_cancel, "t_ship": t_ship, "t_deliv": t_deliv,
        "t_refund": t_refund, "full_refund": full_refund, "partial_refund": partial_refund,
        "refund_share": rng.uniform(0.1, 0.6, n),
    }  # fmt: skip


def valid_at_end(created: np.ndarray, life: dict[str, np.ndarray], end_s: int) -> np.ndarray:
    """Status of the latest exported version is paid, shipped, delivered or partially_refunded."""
    paid_at = np.where(life["pending"], life["t_paid"], created)
    return (
        (paid_at < end_s) & (life["t_cancel"] >= end_s) & ~(life["full_refund"] & (life["t_refund"] < end_s))
    )


def _currency(rng: np.random.Generator, vocab: dict[str, Vocab], country: np.ndarray, o_contact: np.ndarray,
              global_codes: np.ndarray, global_weights: list[float]) -> np.ndarray:  # fmt: skip
    """Order currency from the contact's country (guests draw their own country)."""
    currency_of_country = np.zeros(len(vocab["country"].values) + 1, dtype=np.int64)  # last slot: ""
    for ci, code in enumerate(vocab["country"].values):
        currency_of_country[ci] = P.CURRENCIES.index(P.COUNTRY_CURRENCY.get(code, "USD"))
    guest_country = global_codes[choice(rng, global_weights, len(o_contact))]
    o_country = np.where(o_contact >= 0, country[np.maximum(o_contact, 0)], guest_country)
    return currency_of_country[o_country]  # -1 (no country) -> last slot = USD


def _money(rng: np.random.Generator, fx: np.ndarray, o: dict[str, np.ndarray], life: dict) -> None:
    """Gross, discount and refund in cents of the order currency (in place)."""
    n = len(o["created"])
    whole = whole_unit_mask(o["currency"])
    mean_usd = np.where(o["first"], P.FIRST_ORDER_MEAN_USD, P.REPEAT_ORDER_MEAN_USD)
    gross_usd = np.maximum(
        np.exp(np.log(mean_usd) - P.ORDER_SIGMA**2 / 2 + P.ORDER_SIGMA * rng.standard_normal(n)),
        P.MIN_ORDER_USD,
    )
    gross = round_money(gross_usd * 100.0 / fx[o["currency"], o["created"] // DAY], whole)
    discounted = rng.random(n) < np.where(o["first"], P.FIRST_ORDER_DISCOUNT, P.REPEAT_ORDER_DISCOUNT)
    pct = np.asarray(P.DISCOUNT_PCTS)[rng.integers(0, len(P.DISCOUNT_PCTS), n)]
    discount = np.minimum(np.where(discounted, round_money(gross * pct / 100.0, whole), 0), gross)
    refund = np.where(
        life["full_refund"],
        gross - discount,
        np.where(life["partial_refund"], round_money((gross - discount) * life["refund_share"], whole), 0),
    )
    o.update(gross=gross, discount=discount, refund=refund)


def _export_rows(
    o: dict[str, np.ndarray], life: dict, vocab: dict[str, Vocab], end_s: int
) -> dict[str, np.ndarray]:
    """One row per order and day it changed (latest status of the day), sorted by export day."""
    code = vocab["status"].code
    created = o["created"]
    times = [created, life["t_paid"], life["t_cancel"], life["t_ship"], life["t_deliv"], life["t_refund"]]
    statuses = [
        np.where(life["pending"], code("pending"), code("paid")),
        code("paid"),
        code("cancelled"),
        code("shipped"),
        code("delivered"),
        np.where(life["full_refund"], code("refunded"), code("partially_refunded")),
    ]
    emitted = last_event_emission(times, end_s)
    idx_parts, upd_parts, status_parts, refund_parts = [], [], [], []
    for k, t in enumerate(times):
        idx = np.nonzero(emitted[k])[0].astype(np.int64)
        idx_parts.append(idx)
        upd_parts.append(t[idx])
        st = statuses[k]
        status_parts.append(st[idx] if isinstance(st, np.ndarray) else np.full(len(idx), st))
        refund_parts.append(o["refund"][idx] if k == len(times) - 1 else np.zeros(len(idx), dtype=np.int64))
    row_order = np.concatenate(idx_parts)
    row_updated = np.concatenate(upd_parts)
    perm = np.argsort((row_updated // DAY) * (len(created) + 1) + row_order, kind="stable")
    return {
        "export_day": (row_updated // DAY)[perm].astype(np.int32),
        "order": row_order[perm].astype(np.int32),
        "updated": row_updated[perm].astype(np.int32),
        "status": np.concatenate(status_parts)[perm].astype(np.int8),
        "refund": np.concatenate(refund_parts)[perm],
    }


def assemble(
    rng: np.random.Generator,
    parts: list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]],
    fx: np.ndarray,
    vocab: dict[str, Vocab],
    countries: tuple[np.ndarray, np.ndarray, list[float]],
    end_s: int,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Concatenate (orders, lifecycle) parts, sort by creation time, price them, build export rows.

    The parts' arrays are consumed (popped) one column at a time, which bounds peak memory."""
    created = np.concatenate([p[0].pop("created") for p in parts])
    sort = np.argsort(created, kind="stable")
    o: dict[str, np.ndarray] = {"created": created[sort]}
    del created
    life: dict[str, np.ndarray] = {}
    for side, out in ((0, o), (1, life)):
        for k in [k for k in parts[0][side] if k not in out]:
            out[k] = np.concatenate([p[side].pop(k) for p in parts])[sort]
    del sort
    country, global_codes, global_weights = countries
    o["currency"] = _currency(rng, vocab, country, o["contact"], global_codes, global_weights)
    _money(rng, fx, o, life)
    o["valid"] = valid_at_end(o["created"], life, end_s)
    rows = _export_rows(o, life, vocab, end_s)
    o["num"] = np.arange(1, len(o["created"]) + 1, dtype=np.int64)
    del o["refund"]
    return o, rows


def resurrection_facts(o: dict[str, np.ndarray], gap_days: int) -> dict[str, int]:
    """Customers with a valid order more than ``gap_days`` after their previous valid order."""
    sel = np.nonzero(o["valid"] & (o["contact"] >= 0))[0]
    order = sel[np.lexsort((o["created"][sel], o["contact"][sel]))]
    contact, day = o["contact"][order], o["created"][order] // DAY
    back = np.zeros(len(order), dtype=bool)
    back[1:] = (contact[1:] == contact[:-1]) & (day[1:] - day[:-1] > gap_days)
    return {
        "resurrected_customers": len(np.unique(contact[back])),
        "resurrection_orders": int(back.sum()),
    }
