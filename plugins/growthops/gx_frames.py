"""Letting go of the DataFrames Great Expectations validated (shared by the raw and the mart gate).

A GX pandas datasource keeps every batch it loaded in its execution engine's batch cache, and a
validation leaves reference cycles that hold the batch frame. Neither is freed by reference
counting, and a few large frames allocate too few Python objects to start the cyclic collector:
a 10M-order backfill kept every ingest chunk's frame and grew by about 0.45 GB a chunk
(DECISIONLOG 56). So each validation gets its own datasource, deleted afterwards, and once a
large frame is out of scope (the frame itself is part of a cycle) one full collection follows:
about 0.3 s with GX and Airflow imported, paid per large ingest chunk or mart table, never per
small daily batch.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Any

COLLECT_FROM_ROWS = 100_000  # frames at least this long are followed by a full gc.collect()


def drop_datasource(context: Any, name: str) -> None:
    """Delete the pandas datasource ``name`` and with it the batches its execution engine cached."""
    with contextlib.suppress(Exception):  # already gone, or GX failed before adding it
        context.data_sources.delete(name)


def release_frames(rows: int) -> None:
    """Call once the validated frames are out of scope: after frames of ``rows`` >=
    :data:`COLLECT_FROM_ROWS` in all, collect the reference cycles that still hold them."""
    if rows >= COLLECT_FROM_ROWS:
        gc.collect()
