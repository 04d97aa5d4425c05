"""Draw the whole sample world with numpy: campaigns, daily ad performance, signups, CRM
versions, customers, orders and their status versions, fx rates, recall campaigns and the other
outbound messages, and the costs no ad platform reports.

Everything is vectorised over rows; Python loops run over platforms, campaigns (a few hundred),
channels, event kinds, recall campaigns and newsletter weeks only. The parts live in their own
modules (``ads``, ``contacts``, ``orders``, ``recall``, ``messages``, ``costs``); this one wires
them. The base world consumes one ``numpy.random.Generator(PCG64(seed))`` in a fixed order; the
parts added later draw from their own seeded streams (:func:`basics.sub_rng`), so a seed and
arguments give the same world.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from growthops.contracts import LIFECYCLE_STAGES, ORDER_STATUSES
from growthops.generator import contacts as C
from growthops.generator import costs as K
from growthops.generator import messages as M
from growthops.generator import orders as O
from growthops.generator import params as P
from growthops.generator import recall as R
from growthops.generator.ads import Campaigns, channel_performance, make_campaigns, make_fx
from growthops.generator.basics import (
    DAY,
    HOUR,
    INF,
    Calendar,
    Vocab,
    make_calendar,
    reference_norms,
    sub_rng,
)

__all__ = ["DAY", "HOUR", "INF", "World", "make_calendar", "make_campaigns", "simulate"]

# sub-streams of the seed (never reuse a number: it would correlate two parts)
STREAM_DORMANT, STREAM_RECALL, STREAM_LIFT, STREAM_MESSAGES, STREAM_COSTS = 1, 2, 3, 4, 5


@dataclass
class World:
    """Everything the writer needs; arrays of equal length per table."""

    cal: Calendar
    campaigns: Campaigns
    fx: np.ndarray
    channel: dict[str, np.ndarray]
    contacts: dict[str, np.ndarray]
    crm_rows: dict[str, np.ndarray]
    orders: dict[str, np.ndarray]
    order_rows: dict[str, np.ndarray]
    vocab: dict[str, Vocab]
    messages: dict[str, np.ndarray] = field(default_factory=dict)
    message_campaigns: list[dict] = field(default_factory=list)
    costs: dict[str, np.ndarray] = field(default_factory=dict)
    cost_campaigns: Vocab = field(default_factory=Vocab)
    facts: dict[str, int] = field(default_factory=dict)
    truth: dict = field(default_factory=dict)  # recall campaigns, costs, message counts, re-deliveries


def _contacts(rng, cal, camps, paid, signup_base, vocab) -> tuple[dict, dict, list, dict]:
    c = C.make_signups(rng, cal, camps, paid, signup_base)
    C.assign_utm(rng, cal, camps, vocab, c)
    C.assign_country_and_email(rng, camps, vocab, c)
    life = C.conversion_and_erasure(rng, cal.end_seconds, c)
    ladder = C.stage_ladder(rng, vocab, c, life)
    rows = C.crm_rows(ladder, life["t_del"], c["ghost"], cal.end_seconds)
    return c, life, ladder, rows


def _orders(rng, seed, cal, fx, vocab, c, life, order_norm) -> tuple[dict, dict, R.Recall]:
    """Base orders, the recall campaigns that see their validity, planted orders; all priced."""
    end_s = cal.end_seconds
    base = O.contact_order_times(rng, sub_rng(seed, STREAM_DORMANT), cal, order_norm, life)
    guest_t = O.guest_order_times(rng, base["created"], end_s)
    base = {
        "created": np.concatenate([base["created"], guest_t]).astype(np.int64),
        "contact": np.concatenate([base["contact"], np.full(len(guest_t), -1)]),
        "first": np.concatenate([base["first"], np.zeros(len(guest_t), dtype=bool)]),
    }
    base_life = O.lifecycle(rng, base["created"])
    valid = O.valid_at_end(base["created"], base_life, end_s)
    recall = R.simulate_recall(
        sub_rng(seed, STREAM_RECALL),
        cal,
        base["contact"],
        base["created"],
        valid,
        life["t_del"],
        len(c["created"]),
    )
    lift_contact = np.concatenate([np.empty(0, np.int64), *recall.lift_contact]).astype(np.int64)
    lift = {
        "created": np.concatenate([np.empty(0, np.int64), *recall.lift_created]).astype(np.int64),
        "contact": lift_contact,
        "first": np.zeros(len(lift_contact), dtype=bool),
    }
    lift_rng = sub_rng(seed, STREAM_LIFT)
    parts = [(base, base_life), (lift, O.lifecycle(lift_rng, lift["created"], forced_valid=True))]
    del base, base_life, valid, lift  # assemble consumes the parts column by column
    countries = (c["country"], *C.global_countries(vocab))
    orders, rows = O.assemble(rng, parts, fx, vocab, countries, end_s)
    R.recall_outcomes(recall, orders["contact"], orders["created"], orders["valid"])
    return orders, rows, recall


def _facts(camps, channel, c, life, crm, orders, order_rows, end_s) -> dict[str, int]:
    n_contacts = len(c["created"])
    in_crm = np.zeros(n_contacts, dtype=bool)
    in_crm[crm["contact"]] = True
    o_contact = orders["contact"]
    known = o_contact >= 0
    unknown_contact = known.copy()
    unknown_contact[known] = ~in_crm[o_contact[known]]
    return {
        "campaigns": len(camps),
        "channel_rows_restated": int(channel["restated"].sum()),
        "signups": n_contacts,
        "contacts_in_crm": int(in_crm.sum()),
        "contacts_never_exported": int(c["ghost"].sum()),
        "customers": int(life["is_customer"].sum()),
        "erasures": int(((life["t_del"] < end_s) & ~c["ghost"]).sum()),
        "orders": len(o_contact),
        "guest_orders": int((~known).sum()),
        "orders_of_contacts_unknown_to_crm": int(unknown_contact.sum()),
        "order_rows": len(order_rows["order"]),
        "valid_orders": int(orders["valid"].sum()),
        **C.stage_change_facts(crm),
        **O.resurrection_facts(orders, P.RECALL_LAPSED_DAYS),
    }


def simulate(
    start: date,
    end: date,
    scale: float,
    seed: int,
    progress: Callable[[str], None] = lambda _msg: None,
) -> World:
    rng = np.random.Generator(np.random.PCG64(seed))
    cal = make_calendar(start, end)
    signup_norm, order_norm = reference_norms()
    ref_days = (P.REFERENCE_END - P.REFERENCE_START).days + 1
    signup_base = P.CONTACTS_AT_SCALE_1 * scale / ref_days / signup_norm
    vocab = {
        "utm_source": Vocab(),
        "utm_medium": Vocab(),
        "utm_campaign": Vocab(),
        "country": Vocab(),
        "stage": Vocab(LIFECYCLE_STAGES),
        "status": Vocab(ORDER_STATUSES),
        "currency": Vocab(P.CURRENCIES),
    }
    camps = make_campaigns(rng, cal, scale)
    fx = make_fx(rng, cal)
    channel, paid_signups = channel_performance(rng, cal, camps, fx, signup_base)
    progress(f"channel: {len(camps)} campaigns, {len(channel['day']):,} platform rows "
             f"({int(channel['restated'].sum()):,} restated)")  # fmt: skip
    c, life, _ladder, crm = _contacts(rng, cal, camps, paid_signups, signup_base, vocab)
    progress(f"crm: {len(c['created']):,} signups, {int(life['is_customer'].sum()):,} became customers, "
             f"{len(crm['contact']):,} export rows")  # fmt: skip
    orders, order_rows, recall = _orders(rng, seed, cal, fx, vocab, c, life, order_norm)
    facts = _facts(camps, channel, c, life, crm, orders, order_rows, cal.end_seconds)
    progress(f"orders: {facts['orders']:,} orders ({facts['guest_orders']:,} guest) from "
             f"{facts['customers']:,} customers, {facts['order_rows']:,} export rows, "
             f"{len(recall.campaigns)} recall campaigns")  # fmt: skip
    messages, message_campaigns = M.make_messages(
        sub_rng(seed, STREAM_MESSAGES), cal, c, life["t_del"], recall
    )
    costs, cost_campaigns = K.make_costs(sub_rng(seed, STREAM_COSTS), cal, c, vocab,
                                         scale, recall.campaigns)  # fmt: skip
    in_crm = np.zeros(len(c["created"]), dtype=bool)
    in_crm[crm["contact"]] = True
    redelivered = M.redelivered_days(sub_rng(seed, STREAM_MESSAGES + 100), messages, cal.n_days)
    truth = {
        "recall_campaigns": recall.campaigns,
        "messages": M.message_facts(messages, message_campaigns, in_crm),
        "messages_redelivered_days": [cal.day(d).isoformat() for d in redelivered],
        "costs": K.cost_facts(cal, costs),
    }
    progress(f"messages: {len(messages['contact']):,} rows; costs: {len(costs['day']):,} rows")
    return World(cal=cal, campaigns=camps, fx=fx, channel=channel, contacts=c, crm_rows=crm, orders=orders,
                 order_rows=order_rows, vocab=vocab, messages=messages, message_campaigns=message_campaigns,
                 costs=costs, cost_campaigns=cost_campaigns, facts=facts, truth=truth)  # fmt: skip
