"""Draw the whole sample world with numpy: campaigns, daily ad performance, signups, CRM
versions, customers, orders and their status versions, fx rates.

Everything is vectorised over rows; Python loops run over platforms, campaigns (a few hundred),
channels and event kinds only. Times are integer seconds since the range start (UTC midnight);
money is integer cents of the row's currency. One ``numpy.random.Generator(PCG64(seed))`` is
consumed in a fixed order, so a seed and arguments give the same world.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from growthops.contracts import CHANNELS, LIFECYCLE_STAGES, ORDER_STATUSES
from growthops.generator import params as P

DAY = 86_400
HOUR = 3_600
INF = np.int64(2**62)  # "this event never happens"


class Vocab:
    """Strings of one column as integer codes (-1 = empty); the writer turns them into text."""

    def __init__(self, values: tuple[str, ...] | list[str] = ()) -> None:
        self.values: list[str] = []
        self._codes: dict[str, int] = {}
        for value in values:
            self.code(value)

    def code(self, value: str | None) -> int:
        if value is None or value == "":
            return -1
        if value not in self._codes:
            self._codes[value] = len(self.values)
            self.values.append(value)
        return self._codes[value]


@dataclass
class Calendar:
    start: date
    n_days: int
    dates: np.ndarray  # datetime64[D]
    dow: np.ndarray  # 0 = Monday
    trend: np.ndarray  # growth multiplier
    shape: np.ndarray  # yearly shape (holidays, summer dip, Black Friday)

    @property
    def end_seconds(self) -> int:
        return self.n_days * DAY

    def day(self, index: int) -> date:
        return self.start + timedelta(days=int(index))


def _trend_and_shape(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    years = (dates - np.datetime64(P.REFERENCE_START)).astype(np.int64) / 365.25
    trend = P.ANNUAL_GROWTH**years
    months = dates.astype("datetime64[M]")
    month = months.astype(np.int64) % 12 + 1
    dom = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    shape = np.ones(len(dates))
    shape[(month == 1) & (dom <= 15)] *= 0.85
    shape[(month == 7) | (month == 8)] *= 0.92
    shape[(month == 11) & (dom >= 15)] *= 1.25
    shape[(month == 12) & (dom <= 20)] *= 1.30
    shape[(month == 12) & (dom >= 24) & (dom <= 26)] *= 0.75
    year_of = months.astype("datetime64[Y]").astype(np.int64) + 1970
    for year in np.unique(year_of):
        nov1 = date(int(year), 11, 1)
        thanksgiving = nov1 + timedelta(days=(3 - nov1.weekday()) % 7 + 21)
        black_friday = np.datetime64(thanksgiving + timedelta(days=1))
        shape[dates == black_friday] *= 1.8
        shape[dates == black_friday + np.timedelta64(3, "D")] *= 1.5
    return trend, shape


def _dow(dates: np.ndarray) -> np.ndarray:
    return (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday


def make_calendar(start: date, end: date) -> Calendar:
    n_days = (end - start).days + 1
    dates = np.datetime64(start, "D") + np.arange(n_days)
    trend, shape = _trend_and_shape(dates)
    return Calendar(start=start, n_days=n_days, dates=dates, dow=_dow(dates), trend=trend, shape=shape)


def _reference_norms() -> tuple[float, float]:
    """Mean signup and order demand over the reference range, so scale 1.0 means its totals."""
    ref = make_calendar(P.REFERENCE_START, P.REFERENCE_END)
    weekly = np.asarray(P.WEEKLY_DEMAND)[ref.dow]
    return float(np.mean(ref.trend * ref.shape * weekly)), float(np.mean(ref.shape * weekly))


def _choice(rng: np.random.Generator, weights: tuple[float, ...] | list[float], size: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    cum = np.cumsum(w / w.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(size), side="right").astype(np.int64)


def _time_of_day(rng: np.random.Generator, size: int) -> np.ndarray:
    hours = _choice(rng, P.HOURLY, size)
    return hours * HOUR + rng.integers(0, HOUR, size)


def _round_money(cents: np.ndarray, whole_units: np.ndarray) -> np.ndarray:
    """Round float cents to integer cents; currencies without minor unit to whole units."""
    out = np.rint(cents).astype(np.int64)
    whole = np.rint(cents / 100.0).astype(np.int64) * 100
    return np.where(whole_units, whole, out)


@dataclass
class Campaigns:
    platform: np.ndarray  # index into params.PLATFORMS
    ids: list[str]
    names: list[str]  # canonical (Title Case, trimmed)
    export_names: list[str]  # as the platform writes them (case/spacing may differ)
    market: list[str]
    currency: np.ndarray  # index into params.CURRENCIES
    first_day: np.ndarray
    last_day: np.ndarray
    budget: np.ndarray
    ctr: np.ndarray
    cpc: np.ndarray
    cvr: np.ndarray

    @property
    def keys(self) -> list[str]:
        """Campaign key matched to utm_campaign: lower-trimmed campaign name."""
        return [n.strip().lower() for n in self.export_names]

    def __len__(self) -> int:
        return len(self.ids)


# Markets forced on the first ranks so that even the smallest run bills in several currencies.
_FORCED_MARKETS = {"google_ads": {1: "EU", 2: "JP"}, "meta_ads": {1: "UK", 2: "EU"}, "tiktok_ads": {2: "UK"}}
_ID_DIGITS = {"google_ads": ("", 10), "meta_ads": ("238", 14), "tiktok_ads": ("17", 17)}


def make_campaigns(rng: np.random.Generator, cal: Calendar, scale: float) -> Campaigns:
    total = P.CAMPAIGNS_AT_SCALE_1 * scale * cal.n_days / ((P.REFERENCE_END - P.REFERENCE_START).days + 1)
    rows: list[dict] = []
    used_keys: set[str] = set()
    used_ids: set[str] = set()
    market_names = [m for m, _ in P.RANDOM_MARKET_WEIGHTS]
    market_weights = [w for _, w in P.RANDOM_MARKET_WEIGHTS]
    for pi, platform in enumerate(P.PLATFORMS):
        count = max(P.MIN_CAMPAIGNS_PER_PLATFORM, round(total * platform.campaign_share))
        for rank in range(count):
            if rank == 0:
                market, first, last = "US", 0, cal.n_days - 1
                name = f"{platform.evergreen} {P.MARKET_SUFFIX[market]}"
                budget_boost = 2.5
            else:
                market = (
                    _FORCED_MARKETS[platform.name].get(rank)
                    or market_names[int(_choice(rng, market_weights, 1)[0])]
                )
                start_offset = int(rng.integers(-60, max(cal.n_days - 7, 1)))
                duration = int(np.clip(round(rng.lognormal(np.log(120), 0.5)), 21, 400))
                if start_offset + duration < 0:
                    start_offset = -duration // 2
                first = max(0, start_offset)
                last = min(cal.n_days - 1, start_offset + duration)
                launch = cal.start + timedelta(days=start_offset)
                themes = P.THEMES_BY_MONTH[launch.month]
                theme = themes[int(rng.integers(0, len(themes)))]
                kind = platform.types[int(rng.integers(0, len(platform.types)))]
                name = f"{theme} {kind} {P.MARKET_SUFFIX[market]} {launch.year}"
                budget_boost = 1.0
            base, n = name, 2
            while name.lower() in used_keys:
                name, n = f"{base} v{n}", n + 1
            used_keys.add(name.lower())
            variant = float(rng.random()) if rank > 0 else 0.0
            if variant < 0.65:
                export_name = name
            elif variant < 0.75:
                export_name = name.upper()
            elif variant < 0.85:
                export_name = name.lower()
            elif variant < 0.95:
                export_name = name + " "
            else:
                export_name = " " + name
            prefix, digits = _ID_DIGITS.get(platform.name, ("", 12))
            while True:
                cid = prefix + str(int(rng.integers(10 ** (digits - 1), 10**digits)))
                if cid not in used_ids:
                    used_ids.add(cid)
                    break
            rows.append(
                {
                    "platform": pi,
                    "id": cid,
                    "name": name,
                    "export_name": export_name,
                    "market": market,
                    "currency": P.CURRENCIES.index(P.MARKET_CURRENCY[market]),
                    "first": first,
                    "last": last,
                    "budget": P.MARKET_BUDGET[market] * budget_boost * float(rng.lognormal(0, 0.6)),
                    "ctr": platform.ctr * float(rng.lognormal(0, 0.25)),
                    "cpc": platform.cpc * P.MARKET_CPC[market] * float(rng.lognormal(0, 0.2)),
                    "cvr": platform.signup_cvr * float(rng.lognormal(0, 0.15)),
                }
            )
    return Campaigns(
        platform=np.array([r["platform"] for r in rows], dtype=np.int64),
        ids=[r["id"] for r in rows],
        names=[r["name"] for r in rows],
        export_names=[r["export_name"] for r in rows],
        market=[r["market"] for r in rows],
        currency=np.array([r["currency"] for r in rows], dtype=np.int64),
        first_day=np.array([r["first"] for r in rows], dtype=np.int64),
        last_day=np.array([r["last"] for r in rows], dtype=np.int64),
        budget=np.array([r["budget"] for r in rows]),
        ctr=np.minimum(np.array([r["ctr"] for r in rows]), 0.5),
        cpc=np.array([r["cpc"] for r in rows]),
        cvr=np.minimum(np.array([r["cvr"] for r in rows]), 0.5),
    )


def make_fx(rng: np.random.Generator, cal: Calendar) -> np.ndarray:
    """USD value of one unit, per currency (rows, params.CURRENCIES order) and day; 8 decimals."""
    rates = np.ones((len(P.CURRENCIES), cal.n_days))
    business = (cal.dow < 5).astype(float)
    for ci, currency in enumerate(P.CURRENCIES):
        steps = rng.normal(0.0, P.FX_DAILY_VOL[currency], cal.n_days) * business
        steps[0] = 0.0
        rates[ci] = P.FX_START[currency] * np.exp(np.cumsum(steps))
    return np.round(rates, 8)


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
    facts: dict[str, int] = field(default_factory=dict)


def _channel_performance(
    rng: np.random.Generator, cal: Calendar, camps: Campaigns, fx: np.ndarray, signup_base: float
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    days = np.arange(cal.n_days)
    active = (days[:, None] >= camps.first_day[None, :]) & (days[:, None] <= camps.last_day[None, :])
    weight = active * camps.budget[None, :]
    expected = np.zeros(weight.shape)
    for pi, platform in enumerate(P.PLATFORMS):
        cols = camps.platform == pi
        if not cols.any():
            continue
        denom = weight[:, cols].sum(axis=1)
        per_day = (
            signup_base * platform.signup_share * cal.trend * cal.shape * np.asarray(platform.weekly)[cal.dow]
        )
        share = np.divide(
            weight[:, cols], denom[:, None], out=np.zeros_like(weight[:, cols]), where=denom[:, None] > 0
        )
        expected[:, cols] = per_day[:, None] * share
    day_idx, camp_idx = np.nonzero(active)  # row order: day, then campaign
    exp_clicks = expected[day_idx, camp_idx] / camps.cvr[camp_idx] * rng.lognormal(0, 0.15, len(day_idx))
    clicks = rng.poisson(exp_clicks)
    signups = rng.binomial(clicks, camps.cvr[camp_idx])
    impressions = clicks + rng.poisson(exp_clicks * (1.0 / camps.ctr[camp_idx] - 1.0))
    spend_usd = clicks * camps.cpc[camp_idx] * rng.lognormal(0, 0.1, len(day_idx))
    currency = camps.currency[camp_idx]
    whole = np.isin(currency, [P.CURRENCIES.index(c) for c in P.WHOLE_UNIT_CURRENCIES])
    spend = _round_money(spend_usd * 100.0 / fx[currency, day_idx], whole)

    # Restatements: a platform's file for day D re-sends day D-k with corrected numbers.
    n_platforms = len(P.PLATFORMS)
    restate = rng.random((n_platforms, cal.n_days)) < P.RESTATE_PROBABILITY
    lag = rng.integers(1, P.RESTATE_MAX_LAG + 1, (n_platforms, cal.n_days))
    platform_of_row = camps.platform[camp_idx]
    parts = [(day_idx, day_idx, camp_idx, impressions, clicks, spend, np.zeros(len(day_idx), dtype=bool))]
    for k in range(1, P.RESTATE_MAX_LAG + 1):
        target = day_idx + k
        ok = target < cal.n_days
        hit = np.zeros(len(day_idx), dtype=bool)
        hit[ok] = restate[platform_of_row[ok], target[ok]] & (lag[platform_of_row[ok], target[ok]] == k)
        idx = np.nonzero(hit)[0]
        new_impr = np.rint(impressions[idx] * rng.uniform(0.98, 1.02, len(idx))).astype(np.int64)
        new_clicks = np.minimum(
            new_impr, np.rint(clicks[idx] * rng.uniform(0.97, 1.03, len(idx))).astype(np.int64)
        )
        new_spend = _round_money(spend[idx] * rng.uniform(0.93, 1.04, len(idx)), whole[idx])
        parts.append(
            (
                day_idx[idx] + k,
                day_idx[idx],
                camp_idx[idx],
                new_impr,
                new_clicks,
                new_spend,
                np.ones(len(idx), dtype=bool),
            )
        )
    cols = list(zip(*parts, strict=True))
    channel = {
        "export_day": np.concatenate(cols[0]),
        "day": np.concatenate(cols[1]),
        "campaign": np.concatenate(cols[2]),
        "impressions": np.concatenate(cols[3]).astype(np.int64),
        "clicks": np.concatenate(cols[4]).astype(np.int64),
        "spend": np.concatenate(cols[5]).astype(np.int64),
        "restated": np.concatenate(cols[6]),
    }
    channel["platform"] = camps.platform[channel["campaign"]]
    signup_rows = np.repeat(np.arange(len(day_idx)), signups)
    return channel, np.stack([day_idx[signup_rows], camp_idx[signup_rows]])


def _last_event_emission(times: list[np.ndarray], end: int) -> list[np.ndarray]:
    """Which events are exported: an event is the row of its day unless a later event of the same
    entity happens the same day (the daily export shows the state at the end of the day)."""
    emitted: list[np.ndarray] = [np.empty(0, dtype=bool)] * len(times)
    nxt = np.full(len(times[0]), INF, dtype=np.int64)
    for k in range(len(times) - 1, -1, -1):
        t = times[k]
        emitted[k] = (t < end) & (t // DAY != nxt // DAY)
        nxt = np.minimum(nxt, t)
    return emitted


def simulate(
    start: date,
    end: date,
    scale: float,
    seed: int,
    progress: Callable[[str], None] = lambda _msg: None,
) -> World:
    rng = np.random.Generator(np.random.PCG64(seed))
    cal = make_calendar(start, end)
    end_s = cal.end_seconds
    signup_norm, order_norm = _reference_norms()
    ref_days = (P.REFERENCE_END - P.REFERENCE_START).days + 1
    signup_base = P.CONTACTS_AT_SCALE_1 * scale / ref_days / signup_norm
    weekly_demand = np.asarray(P.WEEKLY_DEMAND)[cal.dow]
    vocab = {
        "utm_source": Vocab(),
        "utm_medium": Vocab(),
        "utm_campaign": Vocab(),
        "country": Vocab(),
        "stage": Vocab(LIFECYCLE_STAGES),
        "status": Vocab(ORDER_STATUSES),
        "currency": Vocab(P.CURRENCIES),
    }

    # --- campaigns, fx and ad performance ---------------------------------------------------
    camps = make_campaigns(rng, cal, scale)
    fx = make_fx(rng, cal)
    channel, paid_signups = _channel_performance(rng, cal, camps, fx, signup_base)
    progress(
        f"channel: {len(camps)} campaigns, {len(channel['day']):,} platform rows "
        f"({int(channel['restated'].sum()):,} restated)"
    )

    # --- signups ------------------------------------------------------------------------------
    channel_code = {name: i for i, name in enumerate(CHANNELS)}
    platform_channel = np.array([channel_code[p.name] for p in P.PLATFORMS])
    day_parts = [paid_signups[0]]
    chan_parts = [platform_channel[camps.platform[paid_signups[1]]]]
    camp_parts = [paid_signups[1]]
    for och in P.ORGANIC_CHANNELS:
        lam = signup_base * och.signup_share * cal.trend * cal.shape * weekly_demand
        counts = rng.poisson(lam)
        days = np.repeat(np.arange(cal.n_days), counts)
        day_parts.append(days)
        chan_parts.append(np.full(len(days), channel_code[och.name]))
        camp_parts.append(np.full(len(days), -1))
    c_day = np.concatenate(day_parts)
    n_contacts = len(c_day)
    c_created = c_day * DAY + _time_of_day(rng, n_contacts)
    order = np.argsort(c_created, kind="stable")
    c_created = c_created[order]
    c_channel = np.concatenate(chan_parts)[order]
    c_campaign = np.concatenate(camp_parts)[order]
    contact_num = np.arange(1, n_contacts + 1, dtype=np.int64)

    # utm fields and country
    utm_source = np.full(n_contacts, -1, dtype=np.int64)
    utm_medium = np.full(n_contacts, -1, dtype=np.int64)
    utm_campaign = np.full(n_contacts, -1, dtype=np.int64)
    country = np.full(n_contacts, -1, dtype=np.int64)
    camp_key_codes = np.array([vocab["utm_campaign"].code(k) for k in camps.keys], dtype=np.int64)
    for pi, platform in enumerate(P.PLATFORMS):
        rows = np.nonzero(c_channel == platform_channel[pi])[0]
        pick = _choice(rng, [w for *_, w in platform.utm], len(rows))
        src = np.array([vocab["utm_source"].code(s) for s, _, _ in platform.utm])
        med = np.array([vocab["utm_medium"].code(m) for _, m, _ in platform.utm])
        utm_source[rows] = src[pick]
        utm_medium[rows] = med[pick]
        keep = rng.random(len(rows)) >= P.PAID_CAMPAIGN_MISSING_UTM_CAMPAIGN
        utm_campaign[rows[keep]] = camp_key_codes[c_campaign[rows[keep]]]
    months = cal.dates.astype("datetime64[M]").astype(str)
    for och in P.ORGANIC_CHANNELS:
        rows = np.nonzero(c_channel == channel_code[och.name])[0]
        pick = _choice(rng, [w for *_, w in och.utm], len(rows))
        for oi, (src, med, camp, _w) in enumerate(och.utm):
            sel = rows[pick == oi]
            utm_source[sel] = vocab["utm_source"].code(src)
            utm_medium[sel] = vocab["utm_medium"].code(med)
            if camp and "{month}" in camp:
                month_codes = np.array([vocab["utm_campaign"].code(camp.format(month=m)) for m in months])
                utm_campaign[sel] = month_codes[c_created[sel] // DAY]
            else:
                utm_campaign[sel] = vocab["utm_campaign"].code(camp)
    market_of_campaign = np.array([P.MARKETS.index(m) for m in camps.market])
    paid = c_campaign >= 0
    contact_market = np.where(paid, market_of_campaign[np.maximum(c_campaign, 0)], -1)
    for mi, market in enumerate(P.MARKETS):
        rows = np.nonzero(contact_market == mi)[0]
        options = P.MARKET_COUNTRIES[market]
        codes = np.array([vocab["country"].code(c) for c, _ in options])
        country[rows] = codes[_choice(rng, [w for _, w in options], len(rows))]
    rows = np.nonzero(~paid)[0]
    global_codes = np.array([vocab["country"].code(c) for c, _ in P.GLOBAL_COUNTRIES])
    global_weights = [w for _, w in P.GLOBAL_COUNTRIES]
    country[rows] = global_codes[_choice(rng, global_weights, len(rows))]

    # email parts: first, last, number suffix, domain, capitalised
    email = {
        "first": rng.integers(0, len(P.FIRST_NAMES), n_contacts),
        "last": rng.integers(0, len(P.LAST_NAMES), n_contacts),
        "suffix": rng.integers(1, 10_000, n_contacts),
        "domain": _choice(rng, [w for _, w in P.EMAIL_DOMAINS], n_contacts),
        "capitalised": rng.random(n_contacts) < 0.03,
    }

    # --- conversion, lifecycle, erasure -----------------------------------------------------------
    conversion = np.array([P.CUSTOMER_CONVERSION[name] for name in CHANNELS])[c_channel]
    converts = rng.random(n_contacts) < conversion
    same_session = rng.random(n_contacts) < P.SAME_SESSION_FIRST_ORDER
    lag = np.where(
        same_session,
        rng.exponential(P.SAME_SESSION_MEAN_MINUTES * 60, n_contacts),
        rng.exponential(P.FIRST_ORDER_MEAN_DAYS * DAY, n_contacts),
    )
    t_first = np.where(converts, c_created + 60 + lag.astype(np.int64), INF)
    erasure = rng.random(n_contacts) < P.ERASURE_SHARE
    t_del = np.where(
        erasure,
        c_created + DAY + rng.exponential(P.ERASURE_MEAN_DAYS * DAY, n_contacts).astype(np.int64),
        INF,
    )
    t_del = np.where(t_del < end_s, t_del, INF)
    t_first = np.where(t_first < t_del, t_first, INF)  # erased before buying: never buys
    t_first = np.where(t_first < end_s, t_first, INF)
    is_customer = t_first < INF
    t_cust = np.where(is_customer, t_first + rng.integers(60, 1800, n_contacts), INF)
    t_del = np.where((t_del < INF) & (t_del <= t_cust) & is_customer, t_cust + HOUR, t_del)
    # engaged (mql/sql/opportunity) between signup and first order, or later for non-buyers
    engage_draw = rng.random(n_contacts)
    frac = rng.uniform(0.2, 0.9, n_contacts)
    gap = t_first - c_created
    t_eng = np.where(
        converts,
        np.where((engage_draw < P.ENGAGE_BEFORE_FIRST_ORDER) & (gap > 2 * HOUR) & is_customer,
                 c_created + (gap * frac).astype(np.int64), INF),
        np.where(engage_draw < P.ENGAGE_NON_CUSTOMER,
                 c_created + HOUR + rng.exponential(P.ENGAGE_MEAN_DAYS * DAY, n_contacts).astype(np.int64), INF),
    )  # fmt: skip
    t_eng = np.where(t_eng < t_del, t_eng, INF)
    stage0 = np.array([vocab["stage"].code(s) for s, _ in P.INITIAL_STAGES])[
        _choice(rng, [w for _, w in P.INITIAL_STAGES], n_contacts)
    ]
    stage_eng = np.array([vocab["stage"].code(s) for s, _ in P.ENGAGED_STAGES])[
        _choice(rng, [w for _, w in P.ENGAGED_STAGES], n_contacts)
    ]
    stage_cust = vocab["stage"].code("customer")
    ghost = is_customer & (rng.random(n_contacts) < P.GHOST_CUSTOMER_SHARE)
    stage_at_del = np.where(t_cust < t_del, stage_cust, np.where(t_eng < t_del, stage_eng, stage0))

    # CRM export rows: one per contact and day it changed (latest state of the day).
    crm_times = [c_created, t_eng, t_cust, t_del]
    crm_stage = [stage0, stage_eng, np.full(n_contacts, stage_cust), stage_at_del]
    emitted = _last_event_emission(crm_times, end_s)
    idx_parts, upd_parts, stage_parts, del_parts = [], [], [], []
    for k in range(4):
        idx = np.nonzero(emitted[k] & ~ghost)[0]
        idx_parts.append(idx)
        upd_parts.append(crm_times[k][idx])
        stage_parts.append(crm_stage[k][idx])
        del_parts.append(np.full(len(idx), k == 3))
    crm_contact = np.concatenate(idx_parts)
    crm_updated = np.concatenate(upd_parts)
    crm_key = (crm_updated // DAY) * (n_contacts + 1) + crm_contact
    crm_order = np.argsort(crm_key, kind="stable")
    crm_rows = {
        "export_day": (crm_updated // DAY)[crm_order],
        "contact": crm_contact[crm_order],
        "updated": crm_updated[crm_order],
        "stage": np.concatenate(stage_parts)[crm_order],
        "is_deleted": np.concatenate(del_parts)[crm_order],
    }
    contacts = {
        "num": contact_num,
        "created": c_created,
        "channel": c_channel,
        "campaign": c_campaign,
        "utm_source": utm_source,
        "utm_medium": utm_medium,
        "utm_campaign": utm_campaign,
        "country": country,
        "ghost": ghost,
        **{f"email_{k}": v for k, v in email.items()},
    }
    progress(
        f"crm: {n_contacts:,} signups, {int(is_customer.sum()):,} became customers, "
        f"{len(crm_contact):,} export rows"
    )

    # --- orders ---------------------------------------------------------------------------------
    order_weights = cal.shape * weekly_demand / order_norm
    cum = np.concatenate([[0.0], np.cumsum(order_weights)])

    def cdf(x: np.ndarray) -> np.ndarray:
        k = np.clip(np.floor(x).astype(np.int64), 0, cal.n_days - 1)
        return cum[k] + order_weights[k] * np.clip(x - k, 0.0, 1.0)

    cust = np.nonzero(is_customer)[0]
    first_t = t_first[cust]
    n_cust = len(cust)
    one_and_done = rng.random(n_cust) < P.ONE_AND_DONE
    lifetime_days = rng.exponential(P.LIFETIME_MEAN_DAYS, n_cust)
    del_day = np.where(t_del[cust] < INF, t_del[cust] // DAY, cal.n_days).astype(float)
    a = (first_t // DAY + 1).astype(float)
    b = np.minimum(np.minimum(first_t / DAY + lifetime_days, float(cal.n_days)), del_day)
    window = np.where((b > a) & ~one_and_done, cdf(b) - cdf(np.minimum(a, b)), 0.0)
    sigma = P.REPEAT_RATE_SIGMA
    rate = np.minimum(P.REPEAT_RATE * rng.lognormal(-(sigma**2) / 2, sigma, n_cust), P.MAX_DAILY_RATE)
    n_repeat = rng.poisson(rate * window)
    owner = np.repeat(np.arange(n_cust), n_repeat)
    u = cdf(a)[owner] + rng.random(len(owner)) * window[owner]
    rep_day = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, cal.n_days - 1)
    rep_t = rep_day * DAY + _time_of_day(rng, len(owner))
    contact_orders_t = np.concatenate([first_t, rep_t])
    contact_orders_c = np.concatenate([cust, cust[owner]])
    is_first = np.concatenate([np.ones(n_cust, dtype=bool), np.zeros(len(owner), dtype=bool)])
    n_contact_orders = len(contact_orders_t)
    n_guest = int(rng.poisson(P.GUEST_ORDER_SHARE / (1 - P.GUEST_ORDER_SHARE) * n_contact_orders))
    if n_contact_orders == 0:
        n_guest = 0
    base = rng.integers(0, max(n_contact_orders, 1), n_guest)
    guest_t = np.clip(
        contact_orders_t[base] + rng.integers(-4 * HOUR, 4 * HOUR, n_guest)
        if n_guest
        else np.empty(0, np.int64),
        0,
        end_s - 1,
    )
    o_created = np.concatenate([contact_orders_t, guest_t]).astype(np.int64)
    o_contact = np.concatenate([contact_orders_c, np.full(n_guest, -1)])
    o_first = np.concatenate([is_first, np.zeros(n_guest, dtype=bool)])
    sort = np.argsort(o_created, kind="stable")
    o_created, o_contact, o_first = o_created[sort], o_contact[sort], o_first[sort]
    n_orders = len(o_created)
    del sort, contact_orders_t, contact_orders_c, is_first, owner, u, rep_day, rep_t

    # currency from the contact's country (guests draw their own)
    currency_of_country = np.zeros(len(vocab["country"].values) + 1, dtype=np.int64)  # last slot: ""
    for ci, code in enumerate(vocab["country"].values):
        currency_of_country[ci] = P.CURRENCIES.index(P.COUNTRY_CURRENCY.get(code, "USD"))
    guest_country = global_codes[_choice(rng, global_weights, n_orders)]
    o_country = np.where(o_contact >= 0, country[np.maximum(o_contact, 0)], guest_country)
    del guest_country
    o_currency = currency_of_country[o_country]  # -1 (no country) -> last slot = USD
    whole = np.isin(o_currency, [P.CURRENCIES.index(c) for c in P.WHOLE_UNIT_CURRENCIES])
    mean_usd = np.where(o_first, P.FIRST_ORDER_MEAN_USD, P.REPEAT_ORDER_MEAN_USD)
    gross_usd = np.maximum(
        np.exp(np.log(mean_usd) - P.ORDER_SIGMA**2 / 2 + P.ORDER_SIGMA * rng.standard_normal(n_orders)),
        P.MIN_ORDER_USD,
    )
    o_day = o_created // DAY
    gross = _round_money(gross_usd * 100.0 / fx[o_currency, o_day], whole)
    del gross_usd, mean_usd
    discounted = rng.random(n_orders) < np.where(o_first, P.FIRST_ORDER_DISCOUNT, P.REPEAT_ORDER_DISCOUNT)
    pct = np.asarray(P.DISCOUNT_PCTS)[rng.integers(0, len(P.DISCOUNT_PCTS), n_orders)]
    discount = np.where(discounted, _round_money(gross * pct / 100.0, whole), 0)
    discount = np.minimum(discount, gross)

    # status lifecycle: created -> (paid) -> cancelled | (shipped) -> delivered -> refunded
    pending = rng.random(n_orders) < P.STARTS_PENDING
    draw = rng.random(n_orders)
    pend_cancel = pending & (draw < P.PENDING_CANCELLED)
    pend_paid = pending & ~pend_cancel
    quick = rng.random(n_orders) < 0.7
    pay_delay = np.where(
        quick,
        60 + rng.exponential(30 * 60, n_orders).astype(np.int64),
        rng.integers(12 * HOUR, 72 * HOUR, n_orders),
    )
    t_paid = np.where(pend_paid, o_created + pay_delay, INF)
    paid_at = np.where(pending, t_paid, o_created)
    paid_cancel = ~pending & (draw < P.PAID_CANCELLED)
    t_cancel = np.where(
        pend_cancel,
        o_created + rng.integers(HOUR, 48 * HOUR, n_orders),
        np.where(paid_cancel, o_created + rng.integers(600, 20 * HOUR, n_orders), INF),
    )
    fulfilled = ~pend_cancel & ~paid_cancel
    digital = rng.random(n_orders) < P.DIGITAL_SHARE
    t_ship = np.where(fulfilled & ~digital, paid_at + rng.integers(6 * HOUR, 48 * HOUR, n_orders), INF)
    t_deliv = np.where(
        fulfilled,
        np.where(
            digital, paid_at + rng.integers(60, 600, n_orders), t_ship + rng.integers(DAY, 5 * DAY, n_orders)
        ),
        INF,
    )
    draw = rng.random(n_orders)
    full_refund = fulfilled & (draw < P.FULL_REFUND)
    partial_refund = fulfilled & (draw >= P.FULL_REFUND) & (draw < P.FULL_REFUND + P.PARTIAL_REFUND)
    t_refund = np.where(
        full_refund | partial_refund, t_deliv + rng.integers(2 * DAY, 30 * DAY, n_orders), INF
    )
    refund_share = rng.uniform(0.1, 0.6, n_orders)
    refund = np.where(
        full_refund,
        gross - discount,
        np.where(partial_refund, _round_money((gross - discount) * refund_share, whole), 0),
    )
    del draw, quick, pay_delay, paid_at, refund_share, digital
    code = vocab["status"].code
    times = [o_created, t_paid, t_cancel, t_ship, t_deliv, t_refund]
    statuses = [
        np.where(pending, code("pending"), code("paid")),
        code("paid"),
        code("cancelled"),
        code("shipped"),
        code("delivered"),
        np.where(full_refund, code("refunded"), code("partially_refunded")),
    ]
    emitted = _last_event_emission(times, end_s)
    idx_parts, upd_parts, status_parts, refund_parts = [], [], [], []
    for k, t in enumerate(times):
        idx = np.nonzero(emitted[k])[0].astype(np.int64)
        idx_parts.append(idx)
        upd_parts.append(t[idx])
        st = statuses[k]
        status_parts.append(st[idx] if isinstance(st, np.ndarray) else np.full(len(idx), st))
        refund_parts.append(refund[idx] if k == len(times) - 1 else np.zeros(len(idx), dtype=np.int64))
    del emitted, times, t_paid, t_cancel, t_ship, t_deliv, t_refund
    row_order = np.concatenate(idx_parts)
    row_updated = np.concatenate(upd_parts)
    key = (row_updated // DAY) * (n_orders + 1) + row_order
    perm = np.argsort(key, kind="stable")
    del key
    order_rows = {
        "export_day": (row_updated // DAY)[perm].astype(np.int32),
        "order": row_order[perm].astype(np.int32),
        "updated": row_updated[perm].astype(np.int32),
        "status": np.concatenate(status_parts)[perm].astype(np.int8),
        "refund": np.concatenate(refund_parts)[perm],
    }
    del perm, row_order, row_updated
    orders = {
        "num": np.arange(1, n_orders + 1, dtype=np.int64),
        "contact": o_contact,
        "created": o_created,
        "currency": o_currency,
        "gross": gross,
        "discount": discount,
    }
    in_crm = np.zeros(n_contacts, dtype=bool)
    in_crm[crm_rows["contact"]] = True
    known = o_contact >= 0
    unknown_contact = known.copy()
    unknown_contact[known] = ~in_crm[o_contact[known]]
    facts = {
        "campaigns": len(camps),
        "channel_rows_restated": int(channel["restated"].sum()),
        "signups": n_contacts,
        "contacts_in_crm": int(in_crm.sum()),
        "contacts_never_exported": int(ghost.sum()),
        "customers": n_cust,
        "erasures": int(((t_del < end_s) & ~ghost).sum()),
        "orders": n_orders,
        "guest_orders": n_guest,
        "orders_of_contacts_unknown_to_crm": int(unknown_contact.sum()),
        "order_rows": len(order_rows["order"]),
    }
    progress(
        f"orders: {n_orders:,} orders ({n_guest:,} guest) from {n_cust:,} customers, "
        f"{len(order_rows['order']):,} export rows"
    )
    return World(
        cal=cal,
        campaigns=camps,
        fx=fx,
        channel=channel,
        contacts=contacts,
        crm_rows=crm_rows,
        orders=orders,
        order_rows=order_rows,
        vocab=vocab,
        facts=facts,
    )
