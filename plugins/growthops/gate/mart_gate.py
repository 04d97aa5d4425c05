"""Mart gate (SPEC §4): after ``dbt build``, before publication.

Two kinds of checks, one result:

* **expectations** (``expectations/marts.json``, a Great Expectations suite): ranges, rates of
  subsets in [0, 1], no negative money, keys, enumerations, funnel consistency. GX runs on pandas
  DataFrames read from the build DB (one batch per mart table, only the columns the suite needs):
  GX 1.x through duckdb-engine returns empty metrics for every expectation, so it is not used on
  DuckDB directly.
* **reconciliations** (SQL here, computed from the raw tables, independent of the dbt code):
  spend of the latest raw channel rows in the reporting currency = spend in
  ``mart_channel_funnel_daily`` (per day); net revenue of the latest raw orders = net revenue in
  ``fct_orders`` (per order) and ``attributed_revenue`` of ``mart_channel_funnel_daily`` (per
  day); every raw order key exactly once in ``fct_orders``; every currency has a rate.

Every check says observed vs expected and carries a few sample rows. A *data failure* (the marts
are wrong: no publication, no retry) is kept apart from a *validator error* (GX or a query crashed:
the data was not judged; never a pass, never reported as bad data). Airflow wiring:
:meth:`GateResult.raise_for_airflow` raises ``AirflowFailException`` for data failures and
:class:`MartGateValidatorError` (a plain exception: Airflow's retries apply) for validator errors.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from growthops.config import REPO_ROOT, Settings
from growthops.contracts import VALID_ORDER_STATUSES
from growthops.logs import get_logger

log = get_logger(__name__)

SUITE_PATH = REPO_ROOT / "expectations" / "marts.json"
MARTS_SCHEMA = "marts"
SAMPLE_ROWS = 5
# Net revenue is counted for valid and refunded orders (SPEC §3).
REVENUE_STATUSES = (*VALID_ORDER_STATUSES, "refunded")
# Money is decimal(18,4) in the marts: each converted amount may be rounded once to 4 places
# (half a unit, 0.00005) and each rate to 10; allow one unit (0.0001) per raw row summed, plus a
# relative 1e-9 for the rate.
ROUNDING_PER_ROW = 0.0001
RELATIVE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class MartColumns:
    """Every mart table and column the SQL reconciliations read: the one place to rename them.

    (The GX suite names its columns in ``expectations/marts.json``; a test checks both against the
    dbt models' contracts.)
    """

    orders: str = "fct_orders"
    order_key: str = "order_id"
    order_status: str = "status"
    order_net_revenue: str = "net_revenue"
    funnel: str = "mart_channel_funnel_daily"
    funnel_date: str = "report_date"
    funnel_spend: str = "spend"
    funnel_revenue: str = "attributed_revenue"

    def required(self) -> dict[str, tuple[str, ...]]:
        return {
            self.orders: (self.order_key, self.order_status, self.order_net_revenue),
            self.funnel: (self.funnel_date, self.funnel_spend, self.funnel_revenue),
        }


COLUMNS = MartColumns()


class MartGateFailed(Exception):
    """The marts failed the gate (data): nothing may be published; retrying cannot help."""

    def __init__(self, result: GateResult):
        super().__init__(result.message())
        self.result = result


class MartGateValidatorError(RuntimeError):
    """The gate could not judge the marts (a validator crashed): nothing may be published."""

    def __init__(self, result: GateResult):
        super().__init__(result.message())
        self.result = result


@dataclass
class CheckResult:
    name: str
    kind: str  # "expectation" | "reconciliation" | "schema"
    table: str | None
    passed: bool
    observed: Any = None
    expected: Any = None
    details: str = ""
    sample_rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # the validator crashed: not judged (then passed is False)

    @property
    def status(self) -> str:
        if self.error is not None:
            return "error"
        return "passed" if self.passed else "failed"

    def line(self) -> str:
        where = f" [{self.table}]" if self.table else ""
        if self.error is not None:
            return f"ERROR {self.name}{where}: validator error: {self.error}"
        head = f"{'ok' if self.passed else 'FAILED'} {self.name}{where}: observed {_fmt(self.observed)}, expected {_fmt(self.expected)}"
        return head + (f" ({self.details})" if self.details else "")


@dataclass
class GateResult:
    checks: list[CheckResult]
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase (and per GX table)

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "failed"]

    @property
    def errors(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "error"]

    @property
    def status(self) -> str:
        """``passed``, ``data_failed`` (some check failed) or ``validator_error`` (only crashes)."""
        if self.failed:
            return "data_failed"
        if self.errors or not self.checks:
            return "validator_error"
        return "passed"

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def validator_error(self) -> str | None:
        """What crashed, when the gate could not judge the marts (and found no data failure)."""
        if self.status != "validator_error":
            return None
        if not self.checks:
            return "no checks ran"
        return "; ".join(dict.fromkeys(f"{c.name}: {c.error}" for c in self.errors[:5]))

    def lines(self) -> list[str]:
        """One line per check (failures and errors first), for the task log."""
        order = {"failed": 0, "error": 1, "passed": 2}
        return [c.line() for c in sorted(self.checks, key=lambda c: order[c.status])]

    def message(self, max_samples: int = 3) -> str:
        bad = self.failed + self.errors
        if self.status == "passed":
            return f"mart gate passed: {len(self.checks)} checks in {self.seconds:.1f}s"
        title = {
            "data_failed": "mart gate FAILED (data): the marts are not published",
            "validator_error": "mart gate VALIDATOR ERROR: the marts were not judged and are not published",
        }[self.status]
        lines = [
            f"{title}; {len(self.failed)} failed, {len(self.errors)} errors of {len(self.checks)} checks"
        ]
        for check in bad:
            lines.append("  " + check.line())
            for row in check.sample_rows[:max_samples]:
                lines.append("      e.g. " + json.dumps(row, default=str, sort_keys=False))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "seconds": self.seconds,
            "timings": self.timings,
            "checks": [{**asdict(c), "status": c.status} for c in self.checks],
        }

    def raise_for_status(self) -> None:
        """MartGateFailed for data failures, MartGateValidatorError for crashes; nothing when passed."""
        if self.status == "data_failed":
            raise MartGateFailed(self)
        if self.status == "validator_error":
            raise MartGateValidatorError(self)

    def raise_for_airflow(self) -> None:
        """Inside an Airflow task: data failures fail fast (no retry), validator errors may retry."""
        if self.status == "data_failed":
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(self.message())
        if self.status == "validator_error":
            raise MartGateValidatorError(self)

    def to_failure_report(self):
        """A ``growthops.reports.FailureReport`` (kind ``mart gate failed`` or ``validator error``)."""
        from growthops.reports import Check, FailureReport

        bad = self.failed + self.errors
        samples = [{"check": c.name, **row} for c in bad for row in c.sample_rows[:3]]
        return FailureReport(
            kind="mart gate failed" if self.status == "data_failed" else "validator error",
            summary=self.message().splitlines()[0],
            checks=[
                Check(
                    name=c.name + (f" [{c.table}]" if c.table else ""),
                    observed=c.error if c.error else _fmt(c.observed),
                    expected=_fmt(c.expected),
                    detail=c.details,
                )
                for c in bad
            ],
            sample_rows=samples,
        )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    return str(value)


def _jsonable(value: Any) -> Any:
    """Plain JSON-able values for reports (Decimal, dates, numpy and pandas scalars, NaN/NaT -> None)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return float(value)
    try:
        if value != value:  # NaN, NaT
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp: a date column arrives as midnight
        value = value.to_pydatetime()
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value


def _rows(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Sample rows as plain dicts; doubles rounded to 6 places (money is compared to 4)."""
    cols = [d[0] for d in cur.description]
    return [
        {c: round(v, 6) if isinstance(v, float) else _jsonable(v) for c, v in zip(cols, row, strict=True)}
        for row in cur.fetchall()
    ]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------------------- schema


def _existing_columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    rows = con.execute(
        "select table_name, column_name from duckdb_columns() "
        "where database_name = current_database() and schema_name = ?",
        [MARTS_SCHEMA],
    ).fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def load_suite(path: Path = SUITE_PATH) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _expectation_columns(kwargs: dict[str, Any]) -> list[str]:
    cols = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    cols += list(kwargs.get("column_list", []))
    cond = kwargs.get("row_condition")
    if isinstance(cond, dict) and isinstance(cond.get("column"), dict):
        cols.append(cond["column"]["name"])
    return cols


def _schema_checks(suite: dict[str, Any], existing: dict[str, set[str]]) -> list[CheckResult]:
    """Every table and column the gate reads must exist (a missing one is a data failure)."""
    needed: dict[str, set[str]] = {}
    for exp in suite["expectations"]:
        needed.setdefault(exp["meta"]["table"], set()).update(_expectation_columns(exp["kwargs"]))
    for table, keys in suite.get("meta", {}).get("keys", {}).items():
        needed.setdefault(table, set()).update(keys)
    for table, cols in COLUMNS.required().items():
        needed.setdefault(table, set()).update(cols)
    checks = []
    for table in sorted(needed):
        have = existing.get(table)
        if have is None:
            checks.append(
                CheckResult(
                    name="mart table exists",
                    kind="schema",
                    table=table,
                    passed=False,
                    observed="missing",
                    expected=f"{MARTS_SCHEMA}.{table}",
                )
            )
            continue
        missing = sorted(needed[table] - have)
        checks.append(
            CheckResult(
                name="mart columns exist",
                kind="schema",
                table=table,
                passed=not missing,
                observed=f"missing {missing}" if missing else "all present",
                expected=sorted(needed[table]),
            )
        )
    return checks


# --------------------------------------------------------------------------------------- GX


def _describe_expected(
    kwargs: dict[str, Any], parameters: dict[str, Any], exp_type: str | None = None
) -> str:
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


def _expectation_name(exp: dict[str, Any]) -> str:
    kw = exp["kwargs"]
    cols = _expectation_columns({k: v for k, v in kw.items() if k != "row_condition"})
    return f"{exp['type']}({', '.join(cols)})"


def _raised(exception_info: Any) -> str | None:
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


def _read_frame(con: duckdb.DuckDBPyConnection, table: str, cols: list[str]):
    """``cols`` of a mart as a pandas DataFrame, through Arrow: strings stay Arrow-backed (about 8x
    faster and 4x smaller than Python objects), decimals become doubles, dates datetime64."""
    import pandas as pd
    import pyarrow as pa

    types = dict(
        con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where database_name = current_database() and schema_name = ? and table_name = ?",
            [MARTS_SCHEMA, table],
        ).fetchall()
    )
    select = ", ".join(
        f"cast({_quote(c)} as double) as {_quote(c)}" if types.get(c, "").startswith("DECIMAL") else _quote(c)
        for c in cols
    )
    arrow = con.execute(f"select {select} from {MARTS_SCHEMA}.{_quote(table)}").fetch_arrow_table()

    def strings_in_arrow(t: pa.DataType):
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
            return pd.StringDtype("pyarrow")
        return None

    return arrow.to_pandas(types_mapper=strings_in_arrow, date_as_object=False)


def _gx_checks(
    con: duckdb.DuckDBPyConnection,
    suite: dict[str, Any],
    tables: list[str],
    parameters: dict[str, Any],
    timings: dict[str, float] | None = None,
) -> list[CheckResult]:
    """Run the suite's expectations of ``tables`` with GX on pandas; one CheckResult per expectation."""
    timings = {} if timings is None else timings
    by_table: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for i, exp in enumerate(suite["expectations"]):
        if exp["meta"]["table"] in tables:
            by_table.setdefault(exp["meta"]["table"], []).append((i, exp))
    if not by_table:
        return []
    keys = suite.get("meta", {}).get("keys", {})
    results: list[CheckResult] = []

    def crashed(items: list[tuple[int, dict[str, Any]]], table: str, exc: BaseException) -> list[CheckResult]:
        return [
            CheckResult(
                name=_expectation_name(exp),
                kind="expectation",
                table=table,
                passed=False,
                expected=_describe_expected(exp["kwargs"], parameters, exp["type"]),
                error=f"{type(exc).__name__}: {exc}",
            )
            for _, exp in items
        ]

    try:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        # GX sets this logger to INFO itself ("Created temporary directory ... for ephemeral docs site")
        logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
        context = gx.get_context(mode="ephemeral")
        # no tqdm bars in task logs (GX ignores environment variables for this)
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        datasource = context.data_sources.add_pandas("growthops_marts")
    except Exception as exc:
        return [c for table, items in by_table.items() for c in crashed(items, table, exc)]

    for table, items in by_table.items():
        table_started = time.monotonic()
        try:
            cols = list(
                dict.fromkeys(
                    [*keys.get(table, [])] + [c for _, e in items for c in _expectation_columns(e["kwargs"])]
                )
            )
            df = _read_frame(con, table, cols)
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
            by_index = {}
            for res in validation.results:
                by_index[int(res.expectation_config.meta["index"])] = res
        except Exception as exc:
            results += crashed(items, table, exc)
            continue
        for i, exp in items:
            res = by_index.get(i)
            if res is None:
                results += crashed(
                    [(i, exp)], table, RuntimeError("GX returned no result for the expectation")
                )
                continue
            results.append(_from_gx(table, exp, res, df, keys.get(table, []), parameters))
        timings[f"gx:{table}"] = time.monotonic() - table_started
    return results


def _from_gx(table, exp, res, df, key_cols, parameters) -> CheckResult:
    name = _expectation_name(exp)
    expected = _describe_expected(exp["kwargs"], parameters, exp["type"])
    error = _raised(res.exception_info)
    if error is not None:
        return CheckResult(
            name=name, kind="expectation", table=table, passed=False, expected=expected, error=error
        )
    r = res.result or {}
    if "observed_value" in r:
        observed: Any = _jsonable(r["observed_value"])
    elif "unexpected_count" in r:
        observed = f"{r['unexpected_count']} of {r.get('element_count')} rows unexpected"
        if r.get("partial_unexpected_list"):
            observed += f", e.g. {[_jsonable(v) for v in r['partial_unexpected_list'][:SAMPLE_ROWS]]}"
    else:
        observed = "no result"
    samples: list[dict[str, Any]] = []
    if not res.success:
        index = r.get("partial_unexpected_index_list") or []
        cols = list(dict.fromkeys([*key_cols, *_expectation_columns(exp["kwargs"])]))
        rows = [i for i in index if isinstance(i, int) and i in df.index][:SAMPLE_ROWS]
        if rows:
            samples = [
                {c: _jsonable(v) for c, v in rec.items()} for rec in df.loc[rows, cols].to_dict("records")
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


# --------------------------------------------------------------------------------------- SQL


def _local_date_sql(column: str, timezone: str) -> str:
    """The calendar day in ``timezone`` of a UTC ``TIMESTAMP`` column (ICU only when needed)."""
    if timezone.upper() in ("UTC", "ETC/UTC", "Z", "GMT"):
        return f"cast({column} as date)"
    return f"cast(({column} at time zone 'UTC') at time zone {_literal(timezone)} as date)"


def _prepare_raw(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Temp tables of the latest raw channel rows and orders, converted to the reporting currency.

    Computed from the raw tables only: the newest file per (date, platform, campaign_id) and the
    newest version per order (updated_at, then the later batch); the rate of a currency is its
    latest usd_rate on or before the day (the newest file per rate day), USD being 1; the
    reporting rate usd_rate(R) likewise; order days are created_at in the reporting timezone.
    Rates are resolved once per (day, currency) pair, then hash-joined to the rows.
    """
    rep = _literal(settings.reporting_currency.upper())
    statuses = ", ".join(_literal(s) for s in REVENUE_STATUSES)
    con.execute(
        """
        create or replace temp table gate_fx as
        select rate_date, currency, usd_rate from (
            select
                cast(date as date) as rate_date,
                upper(trim(currency)) as currency,
                cast(usd_rate as double) as usd_rate
            from raw.fx_rates
            qualify row_number() over (
                partition by cast(date as date), upper(trim(currency))
                order by _batch_day desc, _loaded_at desc, _batch_id desc, _source_line desc
            ) = 1
        )
        where currency <> 'USD'
        union all
        select date '0001-01-01', 'USD', 1.0
        """
    )
    order_date = _local_date_sql("created_at", settings.reporting_timezone)
    # every (day, currency) any raw row needs (all versions: a superset of the latest ones)
    con.execute(
        f"""
        create or replace temp table gate_rates as
        with pairs as (
            select distinct {order_date} as day, upper(trim(currency)) as currency from raw.shop_orders
            union
            select distinct cast(date as date), upper(trim(currency)) from raw.channel_performance
        )
        select pairs.day, pairs.currency, cur.usd_rate, rc.usd_rate as reporting_usd_rate
        from (select *, {rep} as reporting_currency from pairs) as pairs
        asof left join gate_fx as cur
            on pairs.currency = cur.currency and pairs.day >= cur.rate_date
        asof left join gate_fx as rc
            on pairs.reporting_currency = rc.currency and pairs.day >= rc.rate_date
        """
    )
    con.execute(
        """
        create or replace temp table gate_channel as
        with latest as (
            select
                cast(date as date) as report_date,
                lower(trim(platform)) as platform,
                trim(campaign_id) as campaign_id,
                upper(trim(currency)) as currency,
                cast(spend as double) as spend_local,
                _source_file as source_file,
                _source_line as source_line
            from raw.channel_performance
            qualify row_number() over (
                partition by cast(date as date), lower(trim(platform)), trim(campaign_id)
                order by _batch_day desc, _loaded_at desc, _batch_id desc, _source_file desc, _source_line desc
            ) = 1
        )
        select
            latest.*, r.usd_rate, r.reporting_usd_rate,
            latest.spend_local * r.usd_rate / r.reporting_usd_rate as spend
        from latest
        left join gate_rates as r on latest.report_date = r.day and latest.currency = r.currency
        """
    )
    con.execute(
        f"""
        create or replace temp table gate_orders as
        with latest as (
            select
                trim(order_id) as order_id,
                lower(trim(status)) as status,
                upper(trim(currency)) as currency,
                {order_date} as order_date,
                cast(gross_amount as double) - cast(discount_amount as double)
                    - cast(refund_amount as double) as net_local,
                _source_file as source_file,
                _source_line as source_line
            from raw.shop_orders
            where order_id is not null and trim(order_id) <> ''
            qualify row_number() over (
                partition by trim(order_id)
                order by updated_at desc, _batch_day desc, _loaded_at desc, _batch_id desc, _source_line desc
            ) = 1
        )
        select
            latest.*,
            latest.status in ({statuses}) as is_counted,
            r.usd_rate,
            r.reporting_usd_rate,
            case
                when latest.status in ({statuses}) then latest.net_local * r.usd_rate / r.reporting_usd_rate
                else 0.0
            end as net_revenue
        from latest
        left join gate_rates as r on latest.order_date = r.day and latest.currency = r.currency
        """
    )


def _tolerance(rows: int, amount: float | None) -> float:
    return ROUNDING_PER_ROW * max(rows, 1) + RELATIVE_TOLERANCE * abs(amount or 0.0)


def _check_fx_available(con: duckdb.DuckDBPyConnection, settings: Settings) -> CheckResult:
    cur = con.execute(
        """
        select 'channel' as source, report_date as day, currency, count(*) as rows,
               min(source_file) as source_file, min(source_line) as source_line
        from gate_channel where usd_rate is null or reporting_usd_rate is null
        group by all
        union all
        select 'orders', order_date, currency, count(*), min(source_file), min(source_line)
        from gate_orders where usd_rate is null or reporting_usd_rate is null
        group by all
        order by rows desc, day
        """
    )
    gaps = _rows(cur)
    missing = sum(g["rows"] for g in gaps)
    return CheckResult(
        name="every currency has a rate on or before the day",
        kind="reconciliation",
        table="raw.fx_rates",
        passed=missing == 0,
        observed=f"{missing} latest raw rows without a rate"
        + (f" ({sorted({g['currency'] for g in gaps})})" if gaps else ""),
        expected=f"0 (a currency with no rate to {settings.reporting_currency} fails; never dropped or taken as 1)",
        sample_rows=gaps[:SAMPLE_ROWS],
    )


def _daily_reconciliation(
    con: duckdb.DuckDBPyConnection,
    *,
    name: str,
    mart_sql: str,
    raw_sql: str,
    mart_label: str,
    raw_label: str,
    table: str,
) -> CheckResult:
    """Compare per-day totals ``(day, amount, rows)`` of a mart with those computed from raw."""
    con.execute(
        f"""
        create or replace temp table gate_daily as
        with mart as ({mart_sql}), raw as ({raw_sql})
        select
            coalesce(mart.day, raw.day) as day,
            mart.amount as mart_amount,
            raw.amount as raw_amount,
            coalesce(raw.rows, 0) as raw_rows,
            coalesce(raw.unconverted, 0) as unconverted_rows
        from mart full outer join raw on mart.day = raw.day
        """
    )
    observed, expected, rows, unconverted = con.execute(
        "select sum(mart_amount), sum(raw_amount), sum(raw_rows), sum(unconverted_rows) from gate_daily"
    ).fetchone()
    bad = _rows(
        con.execute(
            f"""
            select day, mart_amount as {_quote(mart_label)}, raw_amount as {_quote(raw_label)},
                   coalesce(mart_amount, 0) - coalesce(raw_amount, 0) as difference, raw_rows
            from gate_daily
            where abs(coalesce(mart_amount, 0) - coalesce(raw_amount, 0))
                    > {ROUNDING_PER_ROW} * greatest(raw_rows, 1) + {RELATIVE_TOLERANCE} * abs(coalesce(raw_amount, 0))
               or unconverted_rows > 0
            order by abs(coalesce(mart_amount, 0) - coalesce(raw_amount, 0)) desc, day
            """
        )
    )
    observed = float(observed or 0.0)
    expected = float(expected or 0.0)
    total_ok = abs(observed - expected) <= _tolerance(int(rows or 0), expected)
    passed = total_ok and not bad and not unconverted
    details = f"difference {observed - expected:,.4f} over {int(rows or 0)} raw rows"
    if bad:
        details += f"; {len(bad)} days differ"
    if unconverted:
        details += f"; {int(unconverted)} raw rows have no fx rate (expected total excludes them)"
    return CheckResult(
        name=name,
        kind="reconciliation",
        table=table,
        passed=passed,
        observed=round(observed, 4),
        expected=round(expected, 4),
        details=details,
        sample_rows=bad[:SAMPLE_ROWS],
    )


def _check_spend(con: duckdb.DuckDBPyConnection) -> CheckResult:
    c = COLUMNS
    return _daily_reconciliation(
        con,
        name="spend equals the latest raw channel rows in the reporting currency",
        mart_sql=(
            f"select {_quote(c.funnel_date)} as day, sum(cast({_quote(c.funnel_spend)} as double)) as amount "
            f"from {MARTS_SCHEMA}.{_quote(c.funnel)} group by 1"
        ),
        raw_sql=(
            "select report_date as day, sum(spend) as amount, count(*) as rows, "
            "count(*) filter (where spend is null) as unconverted from gate_channel group by 1"
        ),
        mart_label="mart_spend",
        raw_label="raw_spend",
        table=f"{c.funnel}.{c.funnel_spend}",
    )


def _check_funnel_revenue(con: duckdb.DuckDBPyConnection) -> CheckResult:
    c = COLUMNS
    return _daily_reconciliation(
        con,
        name="attributed revenue equals net revenue of the latest raw orders",
        mart_sql=(
            f"select {_quote(c.funnel_date)} as day, sum(cast({_quote(c.funnel_revenue)} as double)) as amount "
            f"from {MARTS_SCHEMA}.{_quote(c.funnel)} group by 1"
        ),
        raw_sql=(
            "select order_date as day, sum(net_revenue) as amount, count(*) as rows, "
            "count(*) filter (where net_revenue is null) as unconverted "
            "from gate_orders where is_counted group by 1"
        ),
        mart_label="mart_attributed_revenue",
        raw_label="raw_net_revenue",
        table=f"{c.funnel}.{c.funnel_revenue}",
    )


def _check_order_revenue(con: duckdb.DuckDBPyConnection) -> CheckResult:
    """Net revenue per order (and in total) in fct_orders equals that of the latest raw version."""
    c = COLUMNS
    statuses = ", ".join(_literal(s) for s in REVENUE_STATUSES)
    con.execute(
        f"""
        create or replace temp table gate_order_revenue as
        with mart as (
            select
                cast({_quote(c.order_key)} as varchar) as order_id,
                {_quote(c.order_status)} as status,
                case when {_quote(c.order_status)} in ({statuses})
                     then cast({_quote(c.order_net_revenue)} as double) else 0.0 end as net_revenue
            from {MARTS_SCHEMA}.{_quote(c.orders)}
        )
        select
            coalesce(mart.order_id, raw.order_id) as order_id,
            mart.status as mart_status,
            raw.status as raw_status,
            mart.net_revenue as mart_net_revenue,
            raw.net_revenue as raw_net_revenue,
            raw.source_file,
            raw.source_line
        from mart full outer join gate_orders as raw on mart.order_id = raw.order_id
        """
    )
    observed, expected, rows = con.execute(
        "select sum(mart_net_revenue), sum(raw_net_revenue), count(raw_status) from gate_order_revenue"
    ).fetchone()
    mismatch_where = f"""
        (mart_net_revenue is null) <> (raw_net_revenue is null)
        or abs(mart_net_revenue - raw_net_revenue) > {ROUNDING_PER_ROW} + {RELATIVE_TOLERANCE} * abs(raw_net_revenue)
    """
    n_bad = con.execute(f"select count(*) from gate_order_revenue where {mismatch_where}").fetchone()[0]
    bad = _rows(
        con.execute(
            f"""
            select order_id, mart_status, raw_status, mart_net_revenue, raw_net_revenue,
                   coalesce(mart_net_revenue, 0) - coalesce(raw_net_revenue, 0) as difference,
                   source_file, source_line
            from gate_order_revenue where {mismatch_where}
            order by abs(coalesce(mart_net_revenue, 0) - coalesce(raw_net_revenue, 0)) desc, order_id
            limit {SAMPLE_ROWS}
            """
        )
    )
    observed = float(observed or 0.0)
    expected = float(expected or 0.0)
    total_ok = abs(observed - expected) <= _tolerance(int(rows or 0), expected)
    return CheckResult(
        name="net revenue equals that of the latest raw orders",
        kind="reconciliation",
        table=f"{c.orders}.{c.order_net_revenue}",
        passed=total_ok and n_bad == 0,
        observed=round(observed, 4),
        expected=round(expected, 4),
        details=f"difference {observed - expected:,.4f}; {n_bad} orders differ (per order tolerance {ROUNDING_PER_ROW})",
        sample_rows=bad,
    )


def _check_order_keys(con: duckdb.DuckDBPyConnection) -> CheckResult:
    c = COLUMNS
    key = _quote(c.order_key)
    con.execute(
        f"""
        create or replace temp table gate_order_keys as
        with mart as (
            select cast({key} as varchar) as order_id, count(*) as n
            from {MARTS_SCHEMA}.{_quote(c.orders)} group by 1
        )
        select
            coalesce(mart.order_id, raw.order_id) as order_id,
            coalesce(mart.n, 0) as times_in_mart,
            raw.order_id is not null as in_raw,
            raw.source_file,
            raw.source_line
        from mart full outer join gate_orders as raw on mart.order_id = raw.order_id
        """
    )
    missing, duplicated, extra = con.execute(
        """
        select
            count(*) filter (where in_raw and times_in_mart = 0),
            count(*) filter (where times_in_mart > 1),
            count(*) filter (where not in_raw)
        from gate_order_keys
        """
    ).fetchone()
    samples = _rows(
        con.execute(
            f"""
            select
                case when in_raw and times_in_mart = 0 then 'missing from {c.orders}'
                     when times_in_mart > 1 then 'duplicated in {c.orders}'
                     else 'not in raw orders' end as problem,
                order_id, times_in_mart, source_file, source_line
            from gate_order_keys
            where times_in_mart <> 1 or not in_raw
            order by problem, order_id
            limit {SAMPLE_ROWS}
            """
        )
    )
    observed = {"missing": missing, "duplicated": duplicated, "not_in_raw": extra}
    return CheckResult(
        name="every raw order key is exactly once in fct_orders",
        kind="reconciliation",
        table=f"{c.orders}.{c.order_key}",
        passed=missing == 0 and duplicated == 0 and extra == 0,
        observed=observed,
        expected={"missing": 0, "duplicated": 0, "not_in_raw": 0},
        sample_rows=samples,
    )


def _sql_checks(
    con: duckdb.DuckDBPyConnection, settings: Settings, existing: dict[str, set[str]]
) -> list[CheckResult]:
    c = COLUMNS
    plan = [
        (
            "every currency has a rate on or before the day",
            "raw.fx_rates",
            (),
            lambda: _check_fx_available(con, settings),
        ),
        (
            "every raw order key is exactly once in fct_orders",
            c.orders,
            (c.order_key,),
            lambda: _check_order_keys(con),
        ),
        (
            "net revenue equals that of the latest raw orders",
            c.orders,
            (c.order_key, c.order_status, c.order_net_revenue),
            lambda: _check_order_revenue(con),
        ),
        (
            "spend equals the latest raw channel rows in the reporting currency",
            c.funnel,
            (c.funnel_date, c.funnel_spend),
            lambda: _check_spend(con),
        ),
        (
            "attributed revenue equals net revenue of the latest raw orders",
            c.funnel,
            (c.funnel_date, c.funnel_revenue),
            lambda: _check_funnel_revenue(con),
        ),
    ]
    try:
        return _run_sql_plan(con, settings, existing, plan)
    finally:
        for temp in _TEMP_TABLES:
            with contextlib.suppress(duckdb.Error):
                con.execute(f"drop table if exists temp.{temp}")


_TEMP_TABLES = (
    "gate_fx",
    "gate_rates",
    "gate_channel",
    "gate_orders",
    "gate_daily",
    "gate_order_revenue",
    "gate_order_keys",
)


def _run_sql_plan(con, settings, existing, plan) -> list[CheckResult]:
    try:
        _prepare_raw(con, settings)
    except Exception as exc:
        return [
            CheckResult(
                name=name,
                kind="reconciliation",
                table=table,
                passed=False,
                error=f"{type(exc).__name__}: {exc}",
            )
            for name, table, _, _ in plan
        ]
    results = []
    for name, table, needs, run in plan:
        if needs and not set(needs) <= existing.get(table, set()):
            results.append(
                CheckResult(
                    name=name,
                    kind="reconciliation",
                    table=table,
                    passed=False,
                    observed="not run",
                    expected=f"{MARTS_SCHEMA}.{table} with columns {list(needs)}",
                    details="the mart table or its columns are missing (see the schema checks)",
                )
            )
            continue
        try:
            results.append(run())
        except Exception as exc:
            results.append(
                CheckResult(
                    name=name,
                    kind="reconciliation",
                    table=table,
                    passed=False,
                    error=f"{type(exc).__name__}: {exc}",
                )
            )
    return results


# --------------------------------------------------------------------------------------- entry


def run_mart_gate(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    suite_path: Path = SUITE_PATH,
) -> GateResult:
    """Judge the marts of the build DB (``con``'s current database): expectations + reconciliations.

    Never raises for bad data or a crashing validator: read :attr:`GateResult.status` or call
    :meth:`GateResult.raise_for_status` / :meth:`GateResult.raise_for_airflow`.
    """
    started = time.monotonic()
    checks: list[CheckResult] = []
    timings: dict[str, float] = {}
    try:
        con.execute("set enable_progress_bar = false")  # no terminal bars in task logs
        suite = load_suite(suite_path)
        existing = _existing_columns(con)
        checks += _schema_checks(suite, existing)
        ok_tables = [c.table for c in checks if c.kind == "schema" and c.passed and c.table]
        phase = time.monotonic()
        checks += _gx_checks(
            con, suite, ok_tables, {"reactivation_days": settings.reactivation_days}, timings
        )
        timings["expectations"] = time.monotonic() - phase
        phase = time.monotonic()
        checks += _sql_checks(con, settings, existing)
        timings["reconciliations"] = time.monotonic() - phase
    except Exception as exc:  # the gate itself broke: never a pass
        checks.append(
            CheckResult(
                name="mart gate",
                kind="schema",
                table=None,
                passed=False,
                error=f"{type(exc).__name__}: {exc}",
            )
        )
    result = GateResult(checks=checks, seconds=time.monotonic() - started, timings=timings)
    log.info(result.message())
    return result
