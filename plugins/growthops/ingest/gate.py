"""The raw gate: Great Expectations suites (``expectations/<source>.json``) run on pandas DataFrames.

GX's SQL path through duckdb-engine is broken upstream, so the gate validates DataFrames built by
DuckDB. Each suite holds two kinds of expectations, told apart by ``meta.level``:

- ``row`` expectations run on the parsed rows of the batch (every structurally sound record of
  every file, typed, with a ``_file_id`` column). They run with ``result_format=COMPLETE`` so GX
  returns the index of *every* unexpected row: those rows become row rejects (if the SQL rules
  did not reject them already) and count towards their file's reject share.
- ``file`` expectations run on a one-row-per-file DataFrame of file facts (rows in file, header
  problems, truncation, reject share, row count vs the recent average). A failing ``critical``
  one fails that file — the whole file is quarantined; a failing ``warning`` one is reported only.

One GX validation per level per batch: a daily run validates one file, a backfill validates all
its files at once (same function, same suites) and still gets a verdict per file.

The outcome is three-valued and never ambiguous: ``passed``, ``data_failed`` (an expectation was
evaluated and not met) or ``validator_error`` (GX raised, or reported an exception for an
expectation). A validator error is never turned into "data failed" and never passes.

GX is imported inside the functions (it costs seconds); validations run in the process's one
ephemeral context (:func:`growthops.gx_frames.gx_context`: analytics and progress bars off).
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from growthops.config import REPO_ROOT
from growthops.gx_frames import drop_datasource, gx_context
from growthops.logs import get_logger

log = get_logger(__name__)

EXPECTATIONS_DIR = REPO_ROOT / "expectations"
PASSED, DATA_FAILED, VALIDATOR_ERROR = "passed", "data_failed", "validator_error"


@dataclass
class ExpectationRun:
    """One expectation's result, flattened."""

    rule: str
    type: str
    kwargs: dict[str, Any]
    severity: str  # critical | warning
    success: bool
    unexpected_index: list[int] = field(default_factory=list)
    observed: Any = None

    @property
    def column(self) -> str | None:
        kw = self.kwargs
        if "column" in kw:
            return kw["column"]
        if "column_A" in kw:
            return f"{kw['column_A']}, {kw['column_B']}"
        if "column_list" in kw:
            return ", ".join(kw["column_list"])
        return None

    @property
    def expected(self) -> str:
        kw = {k: v for k, v in self.kwargs.items() if k not in ("column", "result_format", "batch_id")}
        if "value_set" in kw and len(kw["value_set"]) > 8:
            kw["value_set"] = [*kw["value_set"][:8], "..."]
        return f"{self.type}({', '.join(f'{k}={v}' for k, v in kw.items())})"


@dataclass
class SuiteRun:
    """The outcome of one GX validation: status, per-expectation results, timing."""

    status: str  # passed | data_failed | validator_error
    results: list[ExpectationRun] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> list[ExpectationRun]:
        return [r for r in self.results if not r.success and r.severity == "critical"]

    @property
    def warnings(self) -> list[ExpectationRun]:
        return [r for r in self.results if not r.success and r.severity != "critical"]


def suite_path(source: str, directory: Path | None = None) -> Path:
    return (directory or EXPECTATIONS_DIR) / f"{source}.json"


def load_suite(source: str, directory: Path | None = None) -> dict[str, Any]:
    """The suite of ``source`` as GX-native JSON: ``{"name", "meta", "expectations": [...]}``."""
    return json.loads(suite_path(source, directory).read_text(encoding="utf-8"))


def expectations_of(suite: dict[str, Any], level: str) -> list[dict[str, Any]]:
    return [e for e in suite["expectations"] if e.get("meta", {}).get("level", "row") == level]


def warm_up() -> None:
    """Import GX and build its context now (seconds), e.g. before taking the warehouse write lock."""
    try:
        gx_context()
    except Exception as exc:  # a broken GX install shows up as a validator error at validation time
        log.warning("raw gate: could not initialise Great Expectations: %s", exc)


def _raised(exception_info: Any) -> str | None:
    """The exception message if GX reports one for an expectation (two shapes exist)."""
    if not exception_info:
        return None
    if isinstance(exception_info, dict):
        if exception_info.get("raised_exception"):
            return str(exception_info.get("exception_message") or "exception")
        for value in exception_info.values():
            if isinstance(value, dict) and value.get("raised_exception"):
                return str(value.get("exception_message") or "exception")
            if getattr(value, "raised_exception", False):
                return str(getattr(value, "exception_message", "exception"))
    elif getattr(exception_info, "raised_exception", False):
        return str(getattr(exception_info, "exception_message", "exception"))
    return None


# kwargs naming the columns an expectation reads; an expectation without them (table level), with a
# kwarg that can reach more columns (a row_condition) or a column given as a $PARAMETER needs the
# whole frame
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_WHOLE_FRAME_KWARGS = ("row_condition",)


def columns_read(expectations: list[dict[str, Any]]) -> list[str] | None:
    """The columns ``expectations`` read, in first-use order; ``None`` if one may read any column."""
    columns: list[str] = []
    for e in expectations:
        kw = e["kwargs"]
        named = [kw[k] for k in _COLUMN_KWARGS if k in kw] + list(kw.get("column_list", []))
        if (
            not named
            or any(k in kw for k in _WHOLE_FRAME_KWARGS)
            or not all(isinstance(c, str) for c in named)
        ):
            return None
        columns.extend(c for c in named if c not in columns)
    return columns


def _gx_frame(df: Any, expectations: list[dict[str, Any]]) -> Any:
    """``df`` narrowed to the columns the expectations read (same index, so the same row numbers).

    GX's pandas engine copies its whole batch frame for every column-pair and multi-column
    expectation (``dropna`` over the domain, even when nothing is dropped): columns no expectation
    reads only cost time (its batch fingerprint, a hash of every column, is skipped altogether:
    :func:`growthops.gx_frames.skip_batch_fingerprints`). A column that does not exist is left for
    GX to report (a validator error, as before).
    """
    needed = columns_read(expectations)
    if needed is None:
        return df
    present = [c for c in needed if c in df.columns]
    return df if len(present) == len(df.columns) else df[present]


def validate(
    df: Any, expectations: list[dict[str, Any]], parameters: dict[str, Any] | None = None
) -> SuiteRun:
    """Run ``expectations`` (GX-native dicts) on ``df`` in one GX validation. Never raises.

    GX runs under pandas copy-on-write (the pandas 3 default): its engine asks for a fresh copy of
    the batch frame per domain, which copy-on-write defers until something writes to it — nothing
    does, so the copies (and the block consolidation each copy of a DuckDB-built frame does)
    are never paid. Every expectation still evaluates every row it did before.
    """
    started = time.perf_counter()
    if not expectations:
        return SuiteRun(PASSED, seconds=0.0)
    name = f"growthops_{time.monotonic_ns()}"
    try:
        import great_expectations as gx
        import pandas as pd
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
        from great_expectations.validator.v1_validator import Validator

        ctx = gx_context()
        frame = _gx_frame(df, expectations)
        configs = [
            ExpectationConfiguration(
                type=e["type"], kwargs=copy.deepcopy(e["kwargs"]), meta=e.get("meta", {})
            )
            for e in expectations
        ]
        suite = gx.ExpectationSuite(name=name, expectations=configs)
        # a datasource per validation, deleted after it: its engine would keep the frame (gx_frames)
        batch_definition = (
            ctx.data_sources.add_or_update_pandas(name=name)
            .add_dataframe_asset(name="frame")
            .add_batch_definition_whole_dataframe("whole")
        )
        # the validator loads the batch itself: no separate get_batch first
        validator = Validator(
            batch_definition=batch_definition,
            batch_parameters={"dataframe": frame},
            result_format={"result_format": "COMPLETE", "include_unexpected_rows": False},
        )
        with pd.option_context("mode.copy_on_write", True):
            result = validator.validate_expectation_suite(suite, parameters or {})
    except Exception as exc:  # GX crashed: the data was not judged
        log.warning("raw gate: validator error: %s: %s", type(exc).__name__, exc)
        return SuiteRun(
            VALIDATOR_ERROR,
            error=f"{type(exc).__name__}: {exc}",
            seconds=time.perf_counter() - started,
        )
    finally:
        if gx_context.cache_info().currsize:
            drop_datasource(gx_context(), name)

    runs: list[ExpectationRun] = []
    errors: list[str] = []
    by_kwargs = {json.dumps(e["kwargs"], sort_keys=True, default=str): e for e in expectations}
    for r in result.results:
        cfg = r.expectation_config
        meta = dict(cfg.meta or {})
        if not meta.get("rule"):  # GX may drop meta: find the source expectation by its kwargs
            key = json.dumps(
                {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}, sort_keys=True, default=str
            )
            meta = by_kwargs.get(key, {}).get("meta", {})
        problem = _raised(r.exception_info)
        if problem:
            errors.append(f"{cfg.type}({cfg.kwargs.get('column', '')}): {problem}")
            continue
        res = r.result or {}
        runs.append(
            ExpectationRun(
                rule=meta.get("rule", cfg.type),
                type=cfg.type,
                kwargs={k: v for k, v in cfg.kwargs.items() if k != "batch_id"},
                severity=meta.get("severity", "critical"),
                success=bool(r.success),
                unexpected_index=[int(i) for i in (res.get("unexpected_index_list") or [])],
                observed=res.get("observed_value", res.get("unexpected_count")),
            )
        )
    seconds = time.perf_counter() - started
    if errors:
        return SuiteRun(VALIDATOR_ERROR, runs, error="; ".join(errors), seconds=seconds)
    status = DATA_FAILED if any(not x.success and x.severity == "critical" for x in runs) else PASSED
    return SuiteRun(status, runs, seconds=seconds)
