"""Landing-file readers shared by the pandas oracles (dbt_oracle, recall_oracle).

Files are read as text with pandas (never sniffed), the newest landing day of a key wins, fx
rates are taken as of the latest rate on or before the day through merge_asof.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd


def files(landing: Path, source: str) -> list[tuple[str, Path]]:
    return sorted((p.parent.name, p) for p in (landing / source).glob("*/*.csv"))


def read(path: Path) -> pd.DataFrame:
    """A landing CSV, every value the string as written ("" for an empty field). The csv module:
    an oracle reads thousands of small files, and pd.read_csv costs ~10x more per file."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = [row for row in csv.reader(fh) if row]  # blank lines skipped, as read_csv does
    return pd.DataFrame(rows, columns=header, dtype=object)


def latest(df: pd.DataFrame, keys: list[str], order: list[str]) -> pd.DataFrame:
    return df.sort_values(order, kind="mergesort").groupby(keys, as_index=False, sort=False).tail(1)


def strip_lower(s: pd.Series) -> pd.Series:
    return s.str.strip().str.lower()


def fx_converter(landing: Path, rc: str) -> Callable[[pd.Series, pd.Series], np.ndarray]:
    """Rates to the reporting currency ``rc`` per (day, currency): the newest file per
    (date, currency), as of the latest rate on or before the day (cross rate through USD)."""
    fx = pd.concat([read(p).assign(landing_day=d) for d, p in files(landing, "fx")], ignore_index=True)
    fx["currency"] = fx["currency"].str.strip().str.upper()
    fx["date"] = pd.to_datetime(fx["date"])
    fx["usd_rate"] = fx["usd_rate"].astype(float)
    fx = latest(fx, ["date", "currency"], ["landing_day"])
    fx = fx[fx["currency"] != "USD"][["date", "currency", "usd_rate"]].sort_values("date")

    def usd_rate(days: pd.Series, currencies: pd.Series) -> np.ndarray:
        need = pd.DataFrame({"date": pd.to_datetime(days).values, "currency": currencies.values})
        need["_i"] = np.arange(len(need))
        got = pd.merge_asof(
            need.sort_values("date"), fx, on="date", by="currency", direction="backward"
        ).sort_values("_i")
        rates = got["usd_rate"].to_numpy(dtype=float)
        rates[got["currency"].to_numpy() == "USD"] = 1.0
        return rates

    def to_reporting(days: pd.Series, currencies: pd.Series) -> np.ndarray:
        own = usd_rate(days, currencies)
        rep = usd_rate(days, pd.Series([rc] * len(days)))
        rate = own / rep
        rate[currencies.to_numpy() == rc] = 1.0
        assert not np.isnan(rate).any(), "oracle: a currency without a rate"
        return rate

    return to_reporting


def read_costs(landing: Path, to_reporting: Callable) -> pd.DataFrame:
    """The costs export (SPEC §11): newest file per key, converted at the cost date (all purposes)."""
    cost_files = files(landing, "costs")
    if not cost_files:
        return pd.DataFrame(columns=["report_date", "channel", "campaign", "purpose", "cost"])
    co = pd.concat([read(p).assign(landing_day=d) for d, p in cost_files], ignore_index=True)
    co["date"] = pd.to_datetime(co["date"])
    co["channel"] = strip_lower(co["channel"])
    co["campaign"] = strip_lower(co["campaign"]).replace("", "(none)")
    co["cost_type"] = strip_lower(co["cost_type"])
    co["purpose"] = strip_lower(co.get("purpose", pd.Series("", index=co.index))).replace("", "acquisition")
    co["currency"] = co["currency"].str.strip().str.upper()
    co = latest(co, ["date", "channel", "campaign", "cost_type", "purpose"], ["landing_day"]).copy()
    co["cost"] = (co["amount"].astype(float) * to_reporting(co["date"], co["currency"])).round(4)
    co["report_date"] = co["date"].dt.date
    return co[["report_date", "channel", "campaign", "purpose", "cost"]]
