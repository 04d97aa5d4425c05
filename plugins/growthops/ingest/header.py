"""Header analysis: how one file's header (CSV header, JSON keys, Parquet columns) maps onto the
contract, or for channel files ``<platform>.<ext>`` onto ``config/platforms/<platform>.json``.

Names are matched trimmed and case-insensitive, in any order. Pure Python on a handful of strings
per file; a failed match is a :class:`QualityCheck` (the file is quarantined as a contract mismatch).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from growthops.contracts import CONTRACTS, PlatformMapping, SourceContract
from growthops.errors import QualityCheck
from growthops.ingest.detect import delimiter_hint


def norm(name: str) -> str:
    return name.strip().casefold()


@dataclass
class HeaderPlan:
    """How one file's header maps onto the contract."""

    file_id: int
    found: list[str]  # header as found (trimmed); JSON keys / Parquet columns for those formats
    positions: dict[str, object]  # canonical column -> CSV position (1-based) or JSON key / Parquet column
    extras: dict[str, object]  # unknown column name -> position / key
    date_format: str = "%Y-%m-%d"
    checks: list[QualityCheck] = field(default_factory=list)
    has_header: bool = True

    @property
    def ok(self) -> bool:
        return self.has_header and not self.checks

    @property
    def header_problems(self) -> int | None:
        """Number of failed header checks; None when the file has no header at all (empty)."""
        return len(self.checks) if self.has_header else None

    def signature(self) -> tuple:
        return (
            tuple(sorted(self.positions.items(), key=lambda kv: kv[0])),
            tuple(sorted(self.extras.items(), key=lambda kv: str(kv[0]))),
            len(self.found),
            tuple(norm(h) for h in self.found),
            self.date_format,
        )


def expected_names(contract: SourceContract, mapping: PlatformMapping | None) -> dict[str, str]:
    """normalised header name -> canonical column."""
    if mapping is not None:
        return {norm(native): canonical for native, canonical in mapping.columns.items()}
    return {norm(c): c for c in contract.names}


def plan_header(
    file_id: int,
    source: str,
    found: list[str] | None,
    platform: str | None,
    mappings: dict[str, PlatformMapping],
    *,
    positional: bool,
) -> HeaderPlan:
    """Match a found header against the contract (or the platform's mapping file)."""
    contract = CONTRACTS[source]
    if found is None:
        return HeaderPlan(file_id, [], {}, {}, has_header=False)
    found = [h.strip() for h in found]
    mapping = None
    checks: list[QualityCheck] = []
    if source == "channel":
        mapping = mappings.get(platform or "")
        if mapping is None:
            checks.append(
                QualityCheck(
                    rule="unknown_platform",
                    observed=platform,
                    expected=sorted(mappings),
                    detail=f"no mapping file config/platforms/{platform}.json for this platform",
                )
            )
            return HeaderPlan(file_id, found, {}, {}, checks=checks)
    names = expected_names(contract, mapping)
    positions: dict[str, object] = {}
    extras: dict[str, object] = {}
    duplicates = []
    for i, header in enumerate(found, start=1):
        key: object = i if positional else header
        canonical = names.get(norm(header))
        if canonical is None:
            extras[header or f"_column_{i}"] = key
        elif canonical in positions:
            duplicates.append(header)
        else:
            positions[canonical] = key
    if duplicates:
        checks.append(
            QualityCheck(
                rule="duplicate_columns",
                observed=duplicates,
                expected="each contract column once",
                detail=f"found header {found}",
            )
        )
    native_of = {canonical: native for native, canonical in (mapping.columns.items() if mapping else ())}
    required = [c for c in contract.required if c not in positions]
    if required:
        expected = [native_of.get(c, c) for c in contract.required]
        unexpected = [e for e in extras if not e.startswith("_column_")]
        checks.append(
            QualityCheck(
                rule="missing_required_columns",
                observed=[native_of.get(c, c) for c in required],
                expected=expected,
                detail=f"expected columns {expected}; found {found}"
                + (f"; unknown {unexpected} (renamed?)" if unexpected else "")
                + delimiter_hint(found, names),
            )
        )
    return HeaderPlan(
        file_id,
        found,
        positions,
        extras,
        date_format=mapping.date_format if mapping else "%Y-%m-%d",
        checks=checks,
    )
