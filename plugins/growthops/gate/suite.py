"""The marts' Great Expectations suite (``expectations/marts.json``), run on pandas DataFrames.

One batch per mart table, read from the build DB with only the columns the suite needs: GX 1.x
through duckdb-engine returns empty metrics for every expectation, so it is not used on DuckDB
directly. One :class:`CheckResult` per expectation: failed (the data broke it, with sample rows)
or a validator error (GX crashed or caught an exception: the data was not judged).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from pathlib import Path
from typing import Any

import duckdb

from growthops.config import REPO_ROOT
from growthops.gate.marts import MARTS_SCHEMA, SAMPLE_ROWS
from growthops.gate.result import CheckResult, jsonable
from growthops.gx_frames import drop_datasource, frame_from_arrow, gx_context, release_frames
from growthops.sql import quote

SUITE_PATH = REPO_ROOT / "expectations" / "marts.json"


def load_suite(path: Path = SUITE_PATH) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def expectation_columns(kwargs: dict[str, Any]) -> list[str]:
    cols = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    cols += list(kwargs.get("column_list", []))
    cond = kwargs.get("row_condition")
    if isinstance(cond, dict) and isinstance(cond.get("column"), dict):
        cols.append(cond["column"]["name"])
    return cols


def describe_expected(kwargs: dict[str, Any], parameters: dict[str, Any], exp_type: str | None = None) -> str:
    def value(v: Any) -> Any:
        return parameters.get(v["$PARAMETER"]) if isinstance(v, dict) and "$PARAMETER" in v else v

    if "min_value" in kwargs or "max_value" in kwargs:
        lo, hi = value(kwargs.get("min_value")), value(kwargs.get("max_value"))
        left = "(" if kwargs.get("strict_min") else "["
        right = ")" if kwargs.get("strict_max") else "]"
        return f"values in {left}{'-inf' if lo is None else lo}, {'+inf' if hi is None else hi}{right}"
    if "value_set" in kwargs:
        return f"values in {kwargs['value_set']}"
    if "column_A" in kwargs:
        op = ">=" if kwargs.get("or_equal") else ">"
        where = ""
        cond = kwargs.get("row_condition")
        if isinstance(cond, dict):
            where = f" where {cond['column']['name']} {cond['operator']} {cond['parameter']!r}"
        return f"{kwargs['column_A']} {op} {kwargs['column_B']}{where}"
    kind = exp_type or ""
    if kind.endswith("_to_not_be_null"):
        return "no nulls"
    if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        return "no duplicates"
    rest = {k: v for k, v in kwargs.items() if k not in ("column", "column_list", "batch_id")}
    return ", ".join(f"{k}={v!r}" for k, v in rest.items()) or "no unexpected values"


def expectation_name(exp: dict[str, Any]) -> str:
    kw = exp["kwargs"]
    cols = expectation_columns({k: v for k, v in kw.items() if k != "row_condition"})
    return f"{exp['type']}({', '.join(cols)})"


def raised(exception_info: Any) -> str | None:
    """The exception message when GX caught an exception while computing an expectation."""
    if not isinstance(exception_info, dict):
        return None
    if "raised_exception" in exception_info:
        return (
            exception_info.get("exception_message") or "exception"
            if exception_info["raised_exception"]
            else None
        )
    for info in exception_info.values():  # keyed by metric id
        if isinstance(info, dict) and info.get("raised_exception"):
            return info.get("exception_message") or "exception"
    return None


def read_frame(con: duckdb.DuckDBPyConnection, table: str, cols: list[str], where: str = "true"):
    """``cols`` of the rows of a mart where ``where`` (SQL) as the pandas DataFrame GX validates
    (:func:`growthops.gx_frames.frame_from_arrow`)."""
    select = ", ".join(quote(c) for c in cols)
    return frame_from_arrow(
        con.execute(f"select {select} from {MARTS_SCHEMA}.{quote(table)} where {where}").fetch_arrow_table()
    )


def gx_checks(
    con: duckdb.DuckDBPyConnection,
    suite: dict[str, Any],
    tables: list[str],
    parameters: dict[str, Any],
    timings: dict[str, float] | None = None,
    rows: dict[str, str] | None = None,
) -> list[CheckResult]:
    """Run the suite's expectations of ``tables`` with GX on pandas; one CheckResult per expectation.

    ``rows``: per table, the SQL predicate of the rows to judge (the daily gate's touched days);
    the other tables are judged whole. A crash (GX itself, reading a table, validating) makes its
    expectations validator errors.
    """
    rows = rows or {}
    timings = {} if timings is None else timings
    by_table: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for i, exp in enumerate(suite["expectations"]):
        if exp["meta"]["table"] in tables:
            by_table.setdefault(exp["meta"]["table"], []).append((i, exp))
    if not by_table:
        return []
    keys = suite.get("meta", {}).get("keys", {})
    try:
        context = gx_context()
    except Exception as exc:
        return [c for table, items in by_table.items() for c in _crashed(items, table, exc, parameters)]
    return _validate_tables(con, context, by_table, keys, parameters, timings, rows)


def _validate_tables(con, context, by_table, keys, parameters, timings, rows) -> list[CheckResult]:
    """Each table in a datasource of its own, deleted with its frame before the next (gx_frames)."""
    results: list[CheckResult] = []
    for table, items in by_table.items():
        table_started = time.monotonic()
        name = f"growthops_marts_{next(_DATASOURCES)}"
        try:
            datasource = context.data_sources.add_pandas(name)
            where = rows.get(table, "true")
            df, by_index = _validate_table(
                con, datasource, table, items, keys.get(table, []), parameters, where
            )
        except Exception as exc:
            results += _crashed(items, table, exc, parameters)
            continue
        finally:
            drop_datasource(context, name)
        for i, exp in items:
            res = by_index.get(i)
            if res is None:
                error = RuntimeError("GX returned no result for the expectation")
                results += _crashed([(i, exp)], table, error, parameters)
                continue
            results.append(from_gx(table, exp, res, df, keys.get(table, []), parameters))
        judged = len(df)
        df = by_index = datasource = None
        release_frames(judged)
        timings[f"gx:{table}"] = time.monotonic() - table_started
    return results


def _crashed(
    items: list[tuple[int, dict[str, Any]]], table: str, exc: BaseException, parameters: dict[str, Any]
) -> list[CheckResult]:
    """The expectations of ``items`` were not judged: validator errors, never passes."""
    return [
        CheckResult(
            name=expectation_name(exp),
            kind="expectation",
            table=table,
            passed=False,
            expected=describe_expected(exp["kwargs"], parameters, exp["type"]),
            error=f"{type(exc).__name__}: {exc}",
        )
        for _, exp in items
    ]


_DATASOURCES = itertools.count(1)  # a new datasource name per table in the process's one context


def warm_gx_context(suite: dict[str, Any], tables: list[str]) -> threading.Thread | None:
    """Make the process's GX context in a background thread when the suite has expectations on
    ``tables`` and it is not made yet (importing GX takes seconds: the SQL checks run meanwhile).
    Join the thread before :func:`gx_checks`; a failure is raised again (and reported) there."""
    if gx_context.cache_info().currsize or not any(
        e["meta"]["table"] in tables for e in suite["expectations"]
    ):
        return None
    thread = threading.Thread(target=_warm, name="gx-context", daemon=True)
    thread.start()
    return thread


def _warm() -> None:
    with contextlib.suppress(Exception):  # not cached: gx_checks makes it again and reports why
        gx_context()


def _validate_table(
    con: duckdb.DuckDBPyConnection,
    datasource: Any,
    table: str,
    items: list[tuple[int, dict[str, Any]]],
    key_cols: list[str],
    parameters: dict[str, Any],
    where: str = "true",
) -> tuple[Any, dict[int, Any]]:
    """One GX batch for ``table`` (only the columns the suite needs): the DataFrame and the GX
    result of each expectation by its index in the suite."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    cols = list(dict.fromkeys([*key_cols] + [c for _, e in items for c in expectation_columns(e["kwargs"])]))
    df = read_frame(con, table, cols, where)
    batch = (
        datasource.add_dataframe_asset(name=table)
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": df})
    )
    gx_suite = gx.ExpectationSuite(name=f"marts.{table}")
    for i, exp in items:
        gx_suite.add_expectation_configuration(
            ExpectationConfiguration(
                type=exp["type"], kwargs=dict(exp["kwargs"]), meta={**exp.get("meta", {}), "index": i}
            )
        )
    validation = batch.validate(
        gx_suite,
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS},
        expectation_parameters=parameters or None,
    )
    return df, {int(res.expectation_config.meta["index"]): res for res in validation.results}


def from_gx(table, exp, res, df, key_cols, parameters) -> CheckResult:
    name = expectation_name(exp)
    expected = describe_expected(exp["kwargs"], parameters, exp["type"])
    error = raised(res.exception_info)
    if error is not None:
        return CheckResult(
            name=name, kind="expectation", table=table, passed=False, expected=expected, error=error
        )
    r = res.result or {}
    if "observed_value" in r:
        observed: Any = jsonable(r["observed_value"])
    elif "unexpected_count" in r:
        observed = f"{r['unexpected_count']} of {r.get('element_count')} rows unexpected"
        if r.get("partial_unexpected_list"):
            observed += f", e.g. {[jsonable(v) for v in r['partial_unexpected_list'][:SAMPLE_ROWS]]}"
    else:
        observed = "no result"
    samples: list[dict[str, Any]] = []
    if not res.success:
        index = r.get("partial_unexpected_index_list") or []
        cols = list(dict.fromkeys([*key_cols, *expectation_columns(exp["kwargs"])]))
        rows = [i for i in index if isinstance(i, int) and i in df.index][:SAMPLE_ROWS]
        if rows:
            samples = [
                {c: jsonable(v) for c, v in rec.items()} for rec in df.loc[rows, cols].to_dict("records")
            ]
    return CheckResult(
        name=name,
        kind="expectation",
        table=table,
        passed=bool(res.success),
        observed=observed,
        expected=expected,
        details=exp.get("meta", {}).get("why", ""),
        sample_rows=samples,
    )
