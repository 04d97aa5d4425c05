"""Finding a source's export files in the landing folder, and telling finished from unfinished ones.

Layout (SPEC §2): ``<landing>/<source>/<YYYY-MM-DD>/<name>.<csv|jsonl|ndjson|parquet>``. The file
stem must match one of the source's declared patterns (``SourceContract.patterns``: ``orders``,
``contacts``, ``rates``, and the parts of a multi-part export such as ``orders_part1`` +
``orders_part2``; any stem for ``channel``, where the stem is the platform). Nothing is skipped
silently: any other file in a day folder (``orders_20250311.csv``, ``orders (1).csv``) is an
*unexpected file* (:func:`unexpected_files`), reported by ``growthops ingest`` and ``status``; a
day folder dated after today is a *future day* (:func:`future_days`), refused as clock skew. A file is *not ready* while it is being written: a name that ends in
``.part``/``.tmp``/``.partial``/``.crdownload``/``.filepart``, starts with ``.`` or ``_``, or was
modified less than ``settings.settle_seconds`` ago. Unready files are never read.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from growthops.config import Settings
from growthops.contracts import CONTRACTS
from growthops.ingest.storage import fresh, is_local, landing_io
from growthops.logs import get_logger

log = get_logger(__name__)

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload", ".filepart", ".uploading")
UNEXPECTED_FILE_RULE = "unexpected_file"
PART_STEM = re.compile(r"^(?P<base>.+)_part(?P<number>[0-9]+)$")


def part_of(source: str, stem: str) -> tuple[str, int] | None:
    """``("orders", 2)`` for ``orders_part2`` when ``source`` declares multi-part exports, else None."""
    match = PART_STEM.match(stem)
    if match is None or not any("_part" in p for p in CONTRACTS[source].patterns):
        return None
    return match["base"], int(match["number"])


@dataclass(frozen=True)
class LandingFile:
    """One finished export file of a source and day."""

    source: str
    day: date
    path: Path  # a local Path, or a UPath when the landing root is a URL (object storage)
    rel_path: str  # relative to the landing root, with forward slashes; the full URL on object storage
    name: str
    format: str  # csv | jsonl | parquet
    staged: Path | None = None  # the local copy read for a batch when ``path`` is on object storage

    @property
    def read_path(self) -> str:
        """The local file DuckDB reads: the file itself, or its copy downloaded for the batch."""
        return str(self.staged or self.path)

    @property
    def stem(self) -> str:
        return self.path.name.rsplit(".", 1)[0]

    @property
    def part(self) -> int | None:
        """The part number of a multi-part export file (``orders_part2.csv`` -> 2), else None."""
        found = part_of(self.source, self.stem)
        return None if found is None else found[1]

    @property
    def export_key(self) -> str:
        """What a re-delivery replaces: the file stem (the platform for channel files); the base
        name for the parts of a multi-part export (``orders_part2`` -> ``orders``)."""
        found = part_of(self.source, self.stem)
        return self.stem if found is None else found[0]

    def sha256(self) -> str:
        h = hashlib.sha256()
        with (self.staged or self.path).open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()


@dataclass(frozen=True)
class PendingFile:
    """A file that looks like an export but must not be read yet."""

    path: Path
    rel_path: str
    reason: str


def day_dir(settings: Settings, source: str, day: date) -> Path:
    return fresh(settings.landing_dir / source / day.isoformat())


def rel_to_landing(settings: Settings, path: Path) -> str:
    if not is_local(path):  # object storage: the URL says where the file is
        return str(path)
    try:
        return path.relative_to(settings.landing_dir).as_posix()
    except ValueError:
        return path.as_posix()


def stem_pattern(source: str) -> str:
    """``orders.*`` -> ``orders``; ``*.csv`` -> ``*`` (channel: any platform)."""
    return CONTRACTS[source].file_glob.split(".", 1)[0]


def stem_patterns(source: str) -> tuple[str, ...]:
    """Every accepted file stem pattern of ``source`` (``orders``, ``orders_part[0-9]*``)."""
    return tuple(p.split(".", 1)[0] for p in CONTRACTS[source].patterns)


def _in_progress_reason(path: Path, settle_seconds: float, now: float) -> str | None:
    name = path.name
    if name.startswith((".", "_")):
        return f"hidden/temporary name {name!r}"
    lower = name.lower()
    for suffix in IN_PROGRESS_SUFFIXES:
        if lower.endswith(suffix):
            return f"name ends with {suffix!r} (still being written)"
    age = now - path.stat().st_mtime
    if age < settle_seconds:
        return f"modified {age:.1f}s ago (< settle_seconds={settle_seconds:g}): still being written"
    return None


def _export_name(name: str) -> str:
    """The export name a temporary file will get: ``orders.csv.part`` -> ``orders.csv``."""
    lower = name.lower()
    for suffix in IN_PROGRESS_SUFFIXES:
        if lower.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.lstrip("._")


def _is_export_name(source: str, name: str) -> bool:
    stem, dot, ext = name.rpartition(".")
    if not dot or f".{ext.lower()}" not in FORMATS:
        return False
    return any(fnmatch.fnmatchcase(stem, pattern) for pattern in stem_patterns(source))


@landing_io
def scan_day(
    settings: Settings, source: str, day: date, *, now: float | None = None
) -> tuple[list[LandingFile], list[PendingFile]]:
    """The ready export files of ``source`` on ``day`` and the ones still being written."""
    folder = day_dir(settings, source, day)
    if not folder.is_dir():
        return [], []
    now = time.time() if now is None else now
    ready: list[LandingFile] = []
    pending: list[PendingFile] = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or not _is_export_name(source, _export_name(path.name)):
            if path.is_file() and not path.name.startswith("."):  # never silently: in every task log
                log.warning(UnexpectedFile(source, day, rel_to_landing(settings, path)).describe())
            continue
        rel = rel_to_landing(settings, path)
        reason = _in_progress_reason(path, settings.settle_seconds, now)
        if reason is not None:
            pending.append(PendingFile(path=path, rel_path=rel, reason=reason))
            continue
        ready.append(
            LandingFile(
                source=source,
                day=day,
                path=path,
                rel_path=rel,
                name=path.name,
                format=FORMATS[path.suffix.lower()],
            )
        )
    return _hold_incomplete_parts(source, ready, pending)


def _hold_incomplete_parts(
    source: str, ready: list[LandingFile], pending: list[PendingFile]
) -> tuple[list[LandingFile], list[PendingFile]]:
    """The parts of a multi-part export wait while another part of it is still being written:
    the day loads whole, never part by part."""
    writing = {}
    for p in pending:
        found = part_of(source, _export_name(p.path.name).rsplit(".", 1)[0])
        if found is not None:
            writing[found[0]] = p.rel_path
    if not writing:
        return ready, pending
    held = [f for f in ready if f.part is not None and f.export_key in writing]
    pending = pending + [
        PendingFile(
            f.path, f.rel_path, f"part of a multi-part export; {writing[f.export_key]} is still being written"
        )
        for f in held
    ]
    return [f for f in ready if f not in held], pending


@landing_io
def landing_days(settings: Settings, source: str, start: date, end: date) -> list[date]:
    """Days in ``[start, end]`` that have a landing folder for ``source``."""
    root = fresh(settings.landing_dir / source)
    if not root.is_dir():
        return []
    days = []
    for child in root.iterdir():
        try:
            d = date.fromisoformat(child.name)
        except ValueError:
            continue
        if start <= d <= end and child.is_dir():
            days.append(d)
    return sorted(days)


def daterange(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@dataclass(frozen=True)
class UnexpectedFile:
    """A file in a source's day folder that no declared pattern accepts: never read, always reported."""

    source: str
    day: date
    rel_path: str

    @property
    def accepted(self) -> str:
        return ", ".join(CONTRACTS[self.source].patterns)

    def describe(self) -> str:
        return f"{self.rel_path}: not an accepted {self.source} export name ({self.accepted}); not loaded"


@landing_io
def unexpected_files(settings: Settings, source: str, day: date) -> list[UnexpectedFile]:
    """Files of ``source``/``day`` that are neither an export nor one being written."""
    folder = day_dir(settings, source, day)
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.iterdir()):
        if (
            not path.is_file()
            or path.name.startswith(".")
            or _is_export_name(source, _export_name(path.name))
        ):
            continue
        out.append(UnexpectedFile(source, day, rel_to_landing(settings, path)))
    return out


def all_days(settings: Settings, source: str) -> list[date]:
    """Every day folder of ``source`` in landing, oldest first."""
    return landing_days(settings, source, date.min, date.max)


def future_days(settings: Settings, source: str, today: date) -> list[date]:
    """Day folders of ``source`` dated after ``today``: an exporter with a fast clock (refused)."""
    return landing_days(settings, source, today + timedelta(days=1), date.max)
