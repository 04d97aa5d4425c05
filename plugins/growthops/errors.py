"""The exceptions growthops raises, split by what the caller must do about them.

- :class:`DataQualityError` — the *data* is wrong (a file failed its gate and was quarantined, a
  header does not match the contract, …). Retrying cannot help: Airflow tasks turn it into
  ``AirflowFailException`` (no retry) with the one-screen message of its reports.
- :class:`TransientError` — the environment hiccupped (warehouse locked, I/O error, export not
  there yet). Retrying with backoff is the fix: Airflow tasks re-raise it.
- :class:`ValidatorError` — the validator itself crashed (a Great Expectations exception). The
  data was *not* judged: it is neither "data failed" nor "passed"; nothing is loaded and nothing
  is quarantined.

Light on purpose (no third-party imports): DAG files and every task import it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class GrowthopsError(Exception):
    """Base class of every error growthops raises on purpose."""


class TransientError(GrowthopsError):
    """Retry later: a lock, an I/O hiccup, an export that is still being written."""


class NotReadyError(TransientError):
    """The export is not (completely) there yet: missing, or still being written."""


class ValidatorError(GrowthopsError):
    """The validator crashed: the data was not judged, nothing was loaded or quarantined."""


@dataclass
class QualityCheck:
    """One failed check of a file: the rule, observed vs expected, and where."""

    rule: str
    observed: Any = None
    expected: Any = None
    column: str | None = None
    lines: list[int] = field(default_factory=list)
    detail: str = ""

    def describe(self) -> str:
        where = f" ({self.column})" if self.column else ""
        text = f"{self.rule}{where}: observed {self.observed}, expected {self.expected}"
        if self.lines:
            shown = ", ".join(str(n) for n in self.lines[:5])
            more = f" and {len(self.lines) - 5} more" if len(self.lines) > 5 else ""
            text += f" — line{'s' if len(self.lines) > 1 else ''} {shown}{more}"
        if self.detail:
            text += f" — {self.detail}"
        return text


@dataclass
class QualityReport:
    """Why one file was refused: structured for reports, flattened for a one-screen message."""

    kind: str  # 'contract mismatch' | 'raw gate failed' | 'reject threshold exceeded' (reports.KINDS)
    source: str
    day: str
    source_file: str  # relative to the landing root; the full URL when the landing is object storage
    sha256: str | None = None
    batch_id: str | None = None
    checks: list[QualityCheck] = field(default_factory=list)
    sample_rows: list[dict[str, Any]] = field(default_factory=list)  # line, rule, column, value, raw_record
    rows_in_file: int | None = None
    rows_rejected: int | None = None
    quarantine_path: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def rules(self) -> list[str]:
        return [c.rule for c in self.checks]

    @property
    def lines(self) -> list[int]:
        return sorted({n for c in self.checks for n in c.lines})

    def summary(self) -> str:
        lines = self.lines
        at = ""
        if lines:
            at = f" line{'s' if len(lines) > 1 else ''} " + ", ".join(str(n) for n in lines[:5])
            at += f" (+{len(lines) - 5} more)" if len(lines) > 5 else ""
        return (
            f"{self.source} {self.day}: {self.source_file}{at} failed {', '.join(self.rules)} ({self.kind})"
        )

    def message(self) -> str:
        """A one-screen, library-free explanation: source, file, lines, rules, what happened."""
        out = [self.summary()]
        if self.rows_in_file is not None:
            rej = "" if self.rows_rejected is None else f", {self.rows_rejected} bad"
            out.append(f"  rows in file: {self.rows_in_file}{rej}")
        for check in self.checks:
            out.append(f"  - {check.describe()}")
        for row in self.sample_rows[:5]:
            raw = str(row.get("raw_record") or "").replace("\n", "\\n")[:120]
            out.append(f"    line {row.get('line')}: {row.get('rule')} {row.get('column') or ''} -> {raw}")
        if self.quarantine_path:
            out.append(f"  quarantined (moved, byte-identical) to {self.quarantine_path}; nothing was loaded")
        from growthops.next_steps import commands_for_file

        out += [
            f"  next: {c}"
            for c in commands_for_file(
                self.source, self.day, quarantined_to=self.quarantine_path, kind=self.kind
            )
        ]
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class DataQualityError(GrowthopsError):
    """One or more files were refused because of their data. Never retried."""

    def __init__(self, reports: list[QualityReport] | QualityReport, message: str | None = None):
        self.reports = [reports] if isinstance(reports, QualityReport) else list(reports)
        text = message or "\n".join(r.message() for r in self.reports)
        super().__init__(text)

    @property
    def report(self) -> QualityReport:
        return self.reports[0]
