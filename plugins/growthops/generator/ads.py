"""Ad platforms: campaigns, fx rates and daily ad performance with restated days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from growthops.generator import params as P
from growthops.generator.basics import Calendar, choice, round_money, whole_unit_mask


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


def _flight(rng: np.random.Generator, cal: Calendar, platform: P.PlatformParams, rank: int) -> dict:
    """Market, flight days, name and budget boost of one campaign."""
    if rank == 0:
        market = "US"
        return {"market": market, "first": 0, "last": cal.n_days - 1, "boost": 2.5,
                "name": f"{platform.evergreen} {P.MARKET_SUFFIX[market]}"}  # fmt: skip
    market_names = [m for m, _ in P.RANDOM_MARKET_WEIGHTS]
    market_weights = [w for _, w in P.RANDOM_MARKET_WEIGHTS]
    market = _FORCED_MARKETS[platform.name].get(rank) or market_names[int(choice(rng, market_weights, 1)[0])]
    start_offset = int(rng.integers(-60, max(cal.n_days - 7, 1)))
    duration = int(np.clip(round(rng.lognormal(np.log(120), 0.5)), 21, 400))
    if start_offset + duration < 0:
        start_offset = -duration // 2
    launch = cal.start + timedelta(days=start_offset)
    themes = P.THEMES_BY_MONTH[launch.month]
    theme = themes[int(rng.integers(0, len(themes)))]
    kind = platform.types[int(rng.integers(0, len(platform.types)))]
    return {
        "market": market,
        "first": max(0, start_offset),
        "last": min(cal.n_days - 1, start_offset + duration),
        "boost": 1.0,
        "name": f"{theme} {kind} {P.MARKET_SUFFIX[market]} {launch.year}",
    }


def _export_name(name: str, variant: float) -> str:
    """How the platform writes the name: mostly as is, sometimes re-cased or padded."""
    if variant < 0.65:
        return name
    if variant < 0.75:
        return name.upper()
    if variant < 0.85:
        return name.lower()
    if variant < 0.95:
        return name + " "
    return " " + name


def _campaign_row(
    rng: np.random.Generator, cal: Calendar, pi: int, rank: int, used_keys: set[str], used_ids: set[str]
) -> dict:
    platform = P.PLATFORMS[pi]
    flight = _flight(rng, cal, platform, rank)
    name, base, n = flight["name"], flight["name"], 2
    while name.lower() in used_keys:
        name, n = f"{base} v{n}", n + 1
    used_keys.add(name.lower())
    variant = float(rng.random()) if rank > 0 else 0.0
    prefix, digits = _ID_DIGITS.get(platform.name, ("", 12))
    while True:
        cid = prefix + str(int(rng.integers(10 ** (digits - 1), 10**digits)))
        if cid not in used_ids:
            used_ids.add(cid)
            break
    market = flight["market"]
    return {
        "platform": pi,
        "id": cid,
        "name": name,
        "export_name": _export_name(name, variant),
        "market": market,
        "currency": P.CURRENCIES.index(P.MARKET_CURRENCY[market]),
        "first": flight["first"],
        "last": flight["last"],
        "budget": P.MARKET_BUDGET[market] * flight["boost"] * float(rng.lognormal(0, 0.6)),
        "ctr": platform.ctr * float(rng.lognormal(0, 0.25)),
        "cpc": platform.cpc * P.MARKET_CPC[market] * float(rng.lognormal(0, 0.2)),
        "cvr": platform.signup_cvr * float(rng.lognormal(0, 0.15)),
    }


def make_campaigns(rng: np.random.Generator, cal: Calendar, scale: float) -> Campaigns:
    total = P.CAMPAIGNS_AT_SCALE_1 * scale * cal.n_days / ((P.REFERENCE_END - P.REFERENCE_START).days + 1)
    rows: list[dict] = []
    used_keys: set[str] = set()
    used_ids: set[str] = set()
    for pi, platform in enumerate(P.PLATFORMS):
        count = max(P.MIN_CAMPAIGNS_PER_PLATFORM, round(total * platform.campaign_share))
        rows.extend(_campaign_row(rng, cal, pi, rank, used_keys, used_ids) for rank in range(count))

    def col(key: str, dtype: type | None = None) -> np.ndarray:
        return np.array([r[key] for r in rows], dtype=dtype)

    return Campaigns(
        platform=col("platform", np.int64),
        ids=[r["id"] for r in rows],
        names=[r["name"] for r in rows],
        export_names=[r["export_name"] for r in rows],
        market=[r["market"] for r in rows],
        currency=col("currency", np.int64),
        first_day=col("first", np.int64),
        last_day=col("last", np.int64),
        budget=col("budget"),
        ctr=np.minimum(col("ctr"), 0.5),
        cpc=col("cpc"),
        cvr=np.minimum(col("cvr"), 0.5),
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


def _expected_signups(cal: Calendar, camps: Campaigns, signup_base: float) -> tuple[np.ndarray, np.ndarray]:
    """Active (day x campaign) mask and the expected signups of each active cell."""
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
    return active, expected


def _restatements(rng: np.random.Generator, cal: Calendar, camps: Campaigns, base: tuple) -> list[tuple]:
    """A platform's file for day D re-sends day D-k with corrected numbers."""
    day_idx, _, camp_idx, impressions, clicks, spend, _ = base
    whole = whole_unit_mask(camps.currency[camp_idx])
    n_platforms = len(P.PLATFORMS)
    restate = rng.random((n_platforms, cal.n_days)) < P.RESTATE_PROBABILITY
    lag = rng.integers(1, P.RESTATE_MAX_LAG + 1, (n_platforms, cal.n_days))
    platform_of_row = camps.platform[camp_idx]
    parts = []
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
        new_spend = round_money(spend[idx] * rng.uniform(0.93, 1.04, len(idx)), whole[idx])
        parts.append((day_idx[idx] + k, day_idx[idx], camp_idx[idx], new_impr, new_clicks, new_spend,
                      np.ones(len(idx), dtype=bool)))  # fmt: skip
    return parts


def channel_performance(
    rng: np.random.Generator, cal: Calendar, camps: Campaigns, fx: np.ndarray, signup_base: float
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Daily rows per active campaign (plus restated days) and the paid signups (day, campaign)."""
    active, expected = _expected_signups(cal, camps, signup_base)
    day_idx, camp_idx = np.nonzero(active)  # row order: day, then campaign
    exp_clicks = expected[day_idx, camp_idx] / camps.cvr[camp_idx] * rng.lognormal(0, 0.15, len(day_idx))
    clicks = rng.poisson(exp_clicks)
    signups = rng.binomial(clicks, camps.cvr[camp_idx])
    impressions = clicks + rng.poisson(exp_clicks * (1.0 / camps.ctr[camp_idx] - 1.0))
    spend_usd = clicks * camps.cpc[camp_idx] * rng.lognormal(0, 0.1, len(day_idx))
    currency = camps.currency[camp_idx]
    spend = round_money(spend_usd * 100.0 / fx[currency, day_idx], whole_unit_mask(currency))
    base = (day_idx, day_idx, camp_idx, impressions, clicks, spend, np.zeros(len(day_idx), dtype=bool))
    parts = [base, *_restatements(rng, cal, camps, base)]
    cols = list(zip(*parts, strict=True))
    names = ("export_day", "day", "campaign", "impressions", "clicks", "spend", "restated")
    channel = {name: np.concatenate(cols[i]) for i, name in enumerate(names)}
    for name in ("impressions", "clicks", "spend"):
        channel[name] = channel[name].astype(np.int64)
    channel["platform"] = camps.platform[channel["campaign"]]
    signup_rows = np.repeat(np.arange(len(day_idx)), signups)
    return channel, np.stack([day_idx[signup_rows], camp_idx[signup_rows]])
