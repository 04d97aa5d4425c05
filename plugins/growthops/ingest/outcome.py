"""What one load does to each file: the batch being judged, one outcome per file, their result."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from growthops.errors import QualityReport
from growthops.ingest.landing import LandingFile


def now() -> datetime:
    """UTC now, naive (the ledger's timestamps)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Batch:
    """Files of one source judged together, with their hashes and batch ids (same positions)."""

    source: str
    files: list[LandingFile]
    shas: list[str]
    batch_ids: list[str]
    started_at: datetime

    def subset(self, ids: list[int]) -> Batch:
        return Batch(
            self.source,
            [self.files[i] for i in ids],
            [self.shas[i] for i in ids],
            [self.batch_ids[i] for i in ids],
            self.started_at,
        )

    def outcome(self, i: int, status: str, **fields: Any) -> FileOutcome:
        """The outcome of file ``i`` with ``status`` (and any other :class:`FileOutcome` fields)."""
        f = self.files[i]
        return FileOutcome(
            self.source, f.day.isoformat(), f.rel_path, self.batch_ids[i], self.shas[i], status, **fields
        )


@dataclass
class FileOutcome:
    """What happened to one file. ``status`` is a ledger status, or ``skipped`` for a no-op."""

    source: str
    day: str
    source_file: str
    batch_id: str
    sha256: str
    status: str  # loaded | loaded_with_rejects | quarantined | skipped | failed
    rows_in_file: int | None = None
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str = ""
    quarantine_path: str | None = None
    warnings: list[str] = field(default_factory=list)
    report: QualityReport | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["report"] = None if self.report is None else self.report.to_dict()
        return d


@dataclass
class BatchResult:
    """Outcomes of one :func:`growthops.ingest.loader.ingest_files` call, plus where the time went."""

    outcomes: list[FileOutcome]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def refused(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status in ("quarantined", "failed")]
