"""Writing the SPEC §11 exports (messages, costs) with the :class:`~growthops.generator.writer.Writer`
helpers: same formatting path (one DuckDB query per batch of days, one file per day)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from growthops.contracts import (
    CHANNELS,
    COST_PURPOSES,
    COST_TYPES,
    COSTS,
    MESSAGE_CHANNELS,
    MESSAGE_PURPOSES,
    MESSAGES,
)
from growthops.generator import params as P

if TYPE_CHECKING:
    from growthops.generator.writer import Writer

# How each column is written (as for the sources of :mod:`growthops.generator.writer`).
MESSAGES_FIELDS = {
    "message_id": "printf('MSG%09d', num)",
    "contact_id": "printf('C%08d', contact)",
    "campaign_id": "csvq(campaign_id::VARCHAR)",
    "campaign_name": "csvq(campaign_name::VARCHAR)",
    "channel": "channel::VARCHAR",
    "purpose": "purpose::VARCHAR",
    "sent_at": "iso_ts(sent, 0, '+00:00')",
    "is_holdout": "is_holdout::VARCHAR",
    "cost": "CASE WHEN cost >= 0 THEN printf('%d.%04d', cost // 10000, cost % 10000) END",
    "currency": "currency::VARCHAR",
}

COSTS_FIELDS = {
    "date": "date::VARCHAR",
    "channel": "channel::VARCHAR",
    "campaign": "csvq(campaign::VARCHAR)",
    "cost_type": "cost_type::VARCHAR",
    "purpose": "purpose::VARCHAR",
    "amount": "money(amount)",
    "currency": "currency::VARCHAR",
}


def write_messages(writer: Writer) -> None:
    """``messages/<day>/sends.csv``: message_id numbered in sent order, holdout rows without cost."""
    import pyarrow as pa

    w = writer.world
    m = w.messages
    camps = w.message_campaigns
    codes = {k: {v: i for i, v in enumerate(values)} for k, values in
             (("channel", MESSAGE_CHANNELS), ("purpose", MESSAGE_PURPOSES), ("currency", P.CURRENCIES))}  # fmt: skip
    camp_channel = np.array([codes["channel"][c["channel"]] for c in camps], dtype=np.int64)
    camp_purpose = np.array([codes["purpose"][c["purpose"]] for c in camps], dtype=np.int64)
    camp_currency = np.array(
        [codes["currency"].get(c["cost_currency"] or "", -1) for c in camps], dtype=np.int64
    )

    def rows(a: int, b: int) -> pa.Table:
        camp = m["campaign"][a:b]
        cost = m["cost"][a:b]
        return pa.table(
            {
                "num": pa.array(np.arange(a + 1, b + 1, dtype=np.int64)),
                "contact": pa.array(m["contact"][a:b] + 1),
                "campaign_id": writer.dictionary([c["campaign_id"] for c in camps], camp),
                "campaign_name": writer.dictionary([c["campaign_name"] for c in camps], camp),
                "channel": writer.dictionary(list(MESSAGE_CHANNELS), camp_channel[camp]),
                "purpose": writer.dictionary(list(MESSAGE_PURPOSES), camp_purpose[camp]),
                "sent": pa.array(m["sent"][a:b]),
                "is_holdout": pa.array(m["holdout"][a:b]),
                "cost": pa.array(cost),
                "currency": writer.dictionary(
                    list(P.CURRENCIES), np.where(cost >= 0, camp_currency[camp], -1)
                ),
            }
        )

    writer.write_source(
        MESSAGES, MESSAGES_FIELDS, m["export_day"], rows, lambda day: f"messages/{day}/sends.csv"
    )


def write_costs(writer: Writer) -> None:
    """``costs/<day>/costs.csv``: one row per date, channel, campaign, cost type and purpose."""
    import pyarrow as pa

    w = writer.world
    k = w.costs
    table = pa.table(
        {
            "date": pa.array(w.cal.dates[k["day"]]),
            "channel": writer.dictionary(list(CHANNELS), k["channel"]),
            "campaign": writer.dictionary(w.cost_campaigns.values, k["campaign"]),
            "cost_type": writer.dictionary(list(COST_TYPES), k["cost_type"]),
            "purpose": writer.dictionary(list(COST_PURPOSES), k["purpose"]),
            "amount": pa.array(k["amount"]),
            "currency": writer.dictionary(list(P.CURRENCIES), k["currency"]),
        }
    )
    writer.write_source(
        COSTS,
        COSTS_FIELDS,
        k["day"],
        lambda a, b: table.slice(a, b - a),
        lambda day: f"costs/{day}/costs.csv",
    )
