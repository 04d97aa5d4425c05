"""Comparison of a built mart with an oracle frame, row by row on its keys, with the SPEC's tolerances."""

from __future__ import annotations

import pandas as pd

MONEY_TOLERANCE = 0.005  # half a cent
RATIO_TOLERANCE = 1e-9
MONEY_RATIO_TOLERANCE = 0.0001  # cpc, cpl, cac, ltv are stored with 4 decimals


def _normalise_keys(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    df = df.copy()
    for k in keys:
        if k.endswith(("_date", "_month", "_week")):
            df[k] = pd.to_datetime(df[k])
    return df


def assert_match(mart, oracle, keys, exact=(), money=(), ratios=(), money_ratios=()):
    m = _normalise_keys(mart, keys).merge(
        _normalise_keys(oracle, keys), on=keys, how="outer", suffixes=("_mart", "_oracle"), indicator=True
    )
    lonely = m[m["_merge"] != "both"]
    assert lonely.empty, (
        f"{len(lonely)} rows in only one of mart/oracle:\n{lonely[[*keys, '_merge']].head(10)}"
    )
    problems = []
    for col in exact:
        bad = m[m[f"{col}_mart"] != m[f"{col}_oracle"]]
        if len(bad):
            problems.append((col, bad[[*keys, f"{col}_mart", f"{col}_oracle"]].head(5)))
    for cols, tol in (
        (money, MONEY_TOLERANCE),
        (ratios, RATIO_TOLERANCE),
        (money_ratios, MONEY_RATIO_TOLERANCE),
    ):
        for col in cols:
            a = m[f"{col}_mart"].astype(float)
            b = m[f"{col}_oracle"].astype(float)
            bad = m[(a.isna() != b.isna()) | ((a - b).abs() > tol)]
            if len(bad):
                problems.append((col, bad[[*keys, f"{col}_mart", f"{col}_oracle"]].head(5)))
    assert not problems, "\n".join(f"{c}:\n{rows}" for c, rows in problems)
    return m
