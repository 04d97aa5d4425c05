"""Letting go of validated frames: the collection runs only after large frames."""

from __future__ import annotations

import gc

from growthops import gx_frames


class _Sources:
    def __init__(self, names: set[str]) -> None:
        self.names = names

    def delete(self, name: str) -> None:
        self.names.remove(name)  # KeyError for a datasource that is not there


class _Context:
    def __init__(self, *names: str) -> None:
        self.data_sources = _Sources(set(names))


def test_drop_datasource_deletes_it_and_tolerates_one_never_added():
    context = _Context("a", "b")
    gx_frames.drop_datasource(context, "a")
    gx_frames.drop_datasource(context, "never-added")
    assert context.data_sources.names == {"b"}


class _Pool:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def release_unused(self) -> None:
        self.calls.append("release arrow pool")


def test_release_frames_collects_only_after_large_frames_and_leaves_arrows_pool(monkeypatch):
    """The collection frees the frames; their pages stay in Arrow's pool for the next chunk."""
    import pyarrow as pa

    calls: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append("collect") or 0)
    monkeypatch.setattr(pa, "default_memory_pool", lambda: _Pool(calls))
    gx_frames.release_frames(gx_frames.COLLECT_FROM_ROWS - 1)
    assert calls == []
    gx_frames.release_frames(gx_frames.COLLECT_FROM_ROWS)
    assert calls == ["collect"]
    gx_frames.release_pool()
    assert calls == ["collect", "release arrow pool"]


def test_frame_from_arrow_keeps_strings_in_arrow_and_makes_decimals_doubles_and_integers_int64():
    import datetime as dt
    from decimal import Decimal

    import pandas as pd
    import pyarrow as pa

    table = pa.table(
        {
            "order_id": pa.array(["o1", None], pa.string()),
            "amount": pa.array([Decimal("12.34"), Decimal("-0.01")], pa.decimal128(18, 2)),
            "order_date": pa.array([dt.date(2024, 2, 29), None], pa.date32()),
            "items": pa.array([3, None], pa.int64()),
            "offset": pa.array([0, -2], pa.int32()),
        }
    )
    frame = gx_frames.frame_from_arrow(table)
    assert frame["order_id"].dtype == pd.StringDtype("pyarrow")
    assert frame["order_id"].isna().tolist() == [False, True]
    assert frame["amount"].dtype == "float64"
    assert frame["amount"].tolist() == [12.34, -0.01]
    assert str(frame["order_date"].dtype).startswith("datetime64")
    assert frame["order_date"].iloc[0] == pd.Timestamp("2024-02-29")
    assert pd.isna(frame["order_date"].iloc[1])
    assert frame["items"].iloc[0] == 3 and pd.isna(frame["items"].iloc[1])
    # GX's range check is vectorised for int64 only: an int32 column would be checked in Python
    assert frame["offset"].dtype == "int64" and frame["offset"].tolist() == [0, -2]


def test_a_range_check_on_a_32_bit_column_judges_like_on_a_64_bit_one():
    """The cast changes the speed of GX's check, not its verdict."""
    import pyarrow as pa

    from growthops.ingest import gate

    between = {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "offset", "min_value": 0, "max_value": 0},
        "meta": {"rule": "outside_window"},
    }
    frame = gx_frames.frame_from_arrow(pa.table({"offset": pa.array([0, 0, 1, 0, -1], pa.int32())}))
    run = gate.validate(frame, [between])
    assert run.status == gate.DATA_FAILED
    assert run.failed[0].unexpected_index == [2, 4]
