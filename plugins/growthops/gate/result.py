"""The gate's result: one :class:`CheckResult` per check, gathered in a :class:`GateResult`.

Every check says observed vs expected and carries a few sample rows. A *data failure* (``failed``:
the marts are wrong, nothing is published, retrying cannot help) is kept apart from a *validator
error* (``error``: GX or a query crashed, the data was not judged; never a pass, never reported as
bad data). :meth:`GateResult.to_failure_report` is the on-call report of either.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


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
        head = f"{'ok' if self.passed else 'FAILED'} {self.name}{where}: observed {fmt(self.observed)}, expected {fmt(self.expected)}"
        return head + (f" ({self.details})" if self.details else "")


# the gate's phases, in the order run_mart_gate runs them (GateResult.timings keys)
_PHASES = ("scope", "reconciliations", "gx_import", "expectations")


@dataclass
class GateResult:
    checks: list[CheckResult]
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase (and per GX table)
    scope: Any = None  # growthops.gate.scope.GateScope: the days judged (None: every day)

    @property
    def scope_text(self) -> str:
        return self.scope.describe() if self.scope is not None else "full gate: every day"

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

    def timings_line(self) -> str:
        """Where the gate's time went, one line for the task log: its phases in order, then GX per
        table (``expectations`` includes waiting for GX's import, ``gx_import``)."""
        phases = [f"{name} {self.timings[name]:.1f}s" for name in _PHASES if name in self.timings]
        tables = [f"{k.removeprefix('gx:')} {v:.1f}s" for k, v in self.timings.items() if k.startswith("gx:")]
        line = f"mart gate time: {', '.join(phases) or 'no phase timed'}, total {self.seconds:.1f}s"
        return line + (f"; GX per table: {', '.join(tables)}" if tables else "")

    def message(self, max_samples: int = 3) -> str:
        bad = self.failed + self.errors
        if self.status == "passed":
            return f"mart gate passed: {len(self.checks)} checks in {self.seconds:.1f}s ({self.scope_text})"
        title = {
            "data_failed": "mart gate FAILED (data): the marts are not published",
            "validator_error": "mart gate VALIDATOR ERROR: the marts were not judged and are not published",
        }[self.status]
        lines = [
            f"{title}; {len(self.failed)} failed, {len(self.errors)} errors of {len(self.checks)} checks"
            f" ({self.scope_text})"
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
            "scope": self.scope.to_dict() if self.scope is not None else {"full": True},
            "checks": [{**asdict(c), "status": c.status} for c in self.checks],
        }

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
                    observed=c.error if c.error else fmt(c.observed),
                    expected=fmt(c.expected),
                    detail=c.details,
                )
                for c in bad
            ],
            sample_rows=samples,
            details={"gate scope": self.scope_text, **self._days_gated()},
        )

    def _days_gated(self) -> dict[str, Any]:
        if self.scope is None or self.scope.full:
            return {}
        return {"days gated": [d.isoformat() for d in self.scope.days]}


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={fmt(v)}" for k, v in value.items())
    return str(value)


def jsonable(value: Any) -> Any:
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
        return jsonable(value.item())
    return value
