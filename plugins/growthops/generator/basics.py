"""Shared basics of the simulation: time units, the calendar, string vocabularies, draws.

Times are integer seconds since the range start (UTC midnight); money is integer cents of the
row's currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

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


def reference_norms() -> tuple[float, float]:
    """Mean signup and order demand over the reference range, so scale 1.0 means its totals."""
    ref = make_calendar(P.REFERENCE_START, P.REFERENCE_END)
    weekly = np.asarray(P.WEEKLY_DEMAND)[ref.dow]
    return float(np.mean(ref.trend * ref.shape * weekly)), float(np.mean(ref.shape * weekly))


def choice(rng: np.random.Generator, weights: tuple[float, ...] | list[float], size: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    cum = np.cumsum(w / w.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(size), side="right").astype(np.int64)


def time_of_day(rng: np.random.Generator, size: int) -> np.ndarray:
    hours = choice(rng, P.HOURLY, size)
    return hours * HOUR + rng.integers(0, HOUR, size)


def round_money(cents: np.ndarray, whole_units: np.ndarray) -> np.ndarray:
    """Round float cents to integer cents; currencies without minor unit to whole units."""
    out = np.rint(cents).astype(np.int64)
    whole = np.rint(cents / 100.0).astype(np.int64) * 100
    return np.where(whole_units, whole, out)


def whole_unit_mask(currency: np.ndarray) -> np.ndarray:
    return np.isin(currency, [P.CURRENCIES.index(c) for c in P.WHOLE_UNIT_CURRENCIES])


def last_event_emission(times: list[np.ndarray], end: int) -> list[np.ndarray]:
    """Which events are exported: an event is the row of its day unless a later event of the same
    entity happens the same day (the daily export shows the state at the end of the day)."""
    emitted: list[np.ndarray] = [np.empty(0, dtype=bool)] * len(times)
    nxt = np.full(len(times[0]), INF, dtype=np.int64)
    for k in range(len(times) - 1, -1, -1):
        t = times[k]
        emitted[k] = (t < end) & (t // DAY != nxt // DAY)
        nxt = np.minimum(nxt, t)
    return emitted


def sub_rng(seed: int, stream: int) -> np.random.Generator:
    """An independent, seeded stream for one part of the world (adding a part leaves others alone)."""
    return np.random.Generator(np.random.PCG64([seed, stream]))
