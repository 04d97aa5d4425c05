"""GX's pandas side, shared by both gates: the process's one GX context, the DataFrames it
validates, how they are made and how they are let go of.

Both gates (raw and mart) validate in :func:`gx_context` (each validation in a datasource of its
own) and hand GX pandas frames read from DuckDB through Arrow
(:func:`frame_from_arrow`): strings stay Arrow-backed (about 8x faster to check and 4x smaller
than Python objects), decimals become doubles, dates datetime64.

A GX pandas datasource keeps every batch it loaded in its execution engine's batch cache, and a
validation leaves reference cycles that hold the batch frame. Neither is freed by reference
counting, and a few large frames allocate too few Python objects to start the cyclic collector:
a 10M-order backfill kept every ingest chunk's frame and grew by about 0.45 GB a chunk
(DECISIONLOG 56). So each validation gets its own datasource, deleted afterwards, and once a
large frame is out of scope (the frame itself is part of a cycle) one full collection follows:
about 0.3 s with GX and Airflow imported, paid per large ingest chunk or mart table, never per
small daily batch.

The frames' buffers come from Arrow's memory pool (mimalloc), which keeps freed pages for the next
frame. That reuse is what the chunks of one range want (releasing after every chunk made each 10M
orders chunk ~10% slower: the pages are faulted in again), but once a range is loaded nothing else
uses them: a 10M-order ingest left the process 0.38 GB larger (0.75 GB instead of 0.37 GB) when the
backfill's in-process dbt build started, and the build's peak was that much higher.
:func:`release_pool` hands them back (DECISIONLOG 64).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
from typing import Any

COLLECT_FROM_ROWS = 100_000  # frames at least this long are followed by a full gc.collect()


def frame_from_arrow(table: Any) -> Any:
    """A ``pyarrow.Table`` (e.g. DuckDB's ``fetch_arrow_table()``) as the pandas DataFrame GX
    validates: Arrow-backed strings, decimals as doubles, every integer as int64 (a column with a
    null becomes float64, as pandas does), dates as datetime64."""
    import pandas as pd
    import pyarrow as pa

    for i, f in enumerate(table.schema):
        if pa.types.is_decimal(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.float64()))
        elif pa.types.is_integer(f.type) and f.type != pa.int64():
            # GX's pandas range check is vectorised only for int64 and float64 columns; any other
            # integer is compared one value at a time in Python (7x slower at 1.3M rows)
            table = table.set_column(i, f.name, table.column(i).cast(pa.int64()))

    def strings_in_arrow(t: pa.DataType) -> Any:
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
            return pd.StringDtype("pyarrow")
        return None

    return table.to_pandas(types_mapper=strings_in_arrow, date_as_object=False)


@functools.cache
def gx_context() -> Any:
    """The process's ephemeral GX context, made on first use (importing GX and making a context
    cost seconds, paid once per process and only by a gate that validates): stores in memory,
    analytics off, no progress bars, no INFO logs, no batch fingerprints."""
    from growthops.logs import quiet_third_party

    quiet_third_party()
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    # GX sets this logger to INFO itself ("Created temporary directory ... for ephemeral docs site")
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            # no tqdm bars in task logs (GX ignores environment variables for this)
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
            analytics_enabled=False,
        ),
    )
    skip_batch_fingerprints()
    return context


def skip_batch_fingerprints() -> None:
    """Make GX skip the fingerprint it takes of every pandas batch under 1 GB (DECISIONLOG 66).

    The fingerprint is an md5 of pandas' hash of every row and column, stored in the result's batch
    markers, which neither gate reads; GX itself leaves it out for frames of 1 GB and more
    (``HASH_THRESHOLD``). It was most of the cost of a validation: 0.74 s of 1.1 s for the mart
    suite on ``fct_orders`` at 955k rows. Called by :func:`gx_context`.
    """
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


def drop_datasource(context: Any, name: str) -> None:
    """Delete the pandas datasource ``name`` and with it the batches its execution engine cached."""
    with contextlib.suppress(Exception):  # already gone, or GX failed before adding it
        context.data_sources.delete(name)


def release_frames(rows: int) -> None:
    """Call once the validated frames are out of scope: after frames of ``rows`` >=
    :data:`COLLECT_FROM_ROWS` in all, collect the reference cycles that still hold them."""
    if rows >= COLLECT_FROM_ROWS:
        gc.collect()


def release_pool() -> None:
    """Return the pages Arrow's pool keeps for reuse to the system: once the frames of a whole
    range are collected, before something else (DuckDB, dbt) needs the memory."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
