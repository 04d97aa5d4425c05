"""Known bad rows for tests of the gates (SPEC §2/§4), injected into already written files.

Each defect edits (or, for a duplicate key, appends) exactly one physical line of one file and is
recorded with its file, line (header = line 1), rule, column and written value, so a test can
assert that the pipeline rejects exactly that row for exactly that reason. Placement is drawn
from the seed: same seed, same defects in the same places. Defects go to different files where
the range allows it, never to the first day (the first fx file stays clean so every currency
has a rate from day one).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from growthops.contracts import PlatformMapping


@dataclass(frozen=True)
class DefectKind:
    rule: str  # stable identifier
    source: str
    file_name: str  # file inside the day folder
    column: str | None  # canonical column (channel files: translated through the platform mapping)
    description: str
    mutate: Callable[[dict[str, str]], str] | None  # row -> bad value of `column`; None = duplicate


def _negative(value: str) -> str:
    return "-" + value.lstrip("-")


def _gross_plus_one(row: dict[str, str]) -> str:
    gross = float(row["gross_amount"])
    return f"{gross + 1.0:.2f}"


def _day_before(row: dict[str, str]) -> str:
    created = datetime.fromisoformat(row["created_at"])
    return (created - timedelta(days=1)).isoformat()


KINDS: tuple[DefectKind, ...] = (
    DefectKind("negative_amount", "orders", "orders.csv", "gross_amount",
               "gross_amount >= 0", lambda r: _negative(r["gross_amount"])),
    DefectKind("unknown_status", "orders", "orders.csv", "status",
               "status in the order status enumeration", lambda r: "on_hold"),
    DefectKind("discount_refund_exceed_gross", "orders", "orders.csv", "discount_amount",
               "discount_amount + refund_amount <= gross_amount", _gross_plus_one),
    DefectKind("duplicate_key", "orders", "orders.csv", None,
               "order_id unique within the file (a copy of an earlier line appended)", None),
    DefectKind("updated_before_created", "orders", "orders.csv", "updated_at",
               "updated_at >= created_at", _day_before),
    DefectKind("missing_contact_id", "crm", "contacts.csv", "contact_id",
               "contact_id not null", lambda r: ""),
    DefectKind("unparseable_timestamp", "crm", "contacts.csv", "created_at",
               "created_at is an ISO-8601 timestamp", lambda r: "02/30/2025 10:00 AM"),
    DefectKind("unknown_lifecycle_stage", "crm", "contacts.csv", "lifecycle_stage",
               "lifecycle_stage in the lifecycle enumeration", lambda r: "prospect"),
    DefectKind("clicks_exceed_impressions", "channel", "google_ads.csv", "clicks",
               "0 <= clicks <= impressions", lambda r: str(int(r["impressions"]) + 5)),
    DefectKind("negative_spend", "channel", "meta_ads.csv", "spend",
               "spend >= 0", lambda r: _negative(r["spend"])),
    DefectKind("unknown_currency", "channel", "tiktok_ads.csv", "currency",
               "currency is a known ISO 4217 code", lambda r: "US$"),
    DefectKind("non_positive_rate", "fx", "rates.csv", "usd_rate",
               "usd_rate > 0", lambda r: "0.00000000"),
)  # fmt: skip


def _format_row(values: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


def inject(
    landing: Path,
    files: dict[str, int],
    days: list[str],
    seed: int,
    mappings: dict[str, PlatformMapping],
) -> list[dict]:
    """Apply every defect kind once; update ``files`` row counts; return the defect records.

    A record: rule, description, source, file (relative to the landing root), line (physical,
    header = 1), column (as named in the file), value written, original value; a duplicate
    also names ``duplicate_of_line``.
    """
    rng = np.random.Generator(np.random.PCG64([seed, 0xDEF]))
    used: dict[str, set[int]] = {}
    taken_days: dict[str, set[str]] = {}
    records = []
    for kind in KINDS:
        candidates = [d for d in days[1:] if files.get(f"{kind.source}/{d}/{kind.file_name}", 0) >= 2]
        if not candidates:
            continue
        fresh = [d for d in candidates if d not in taken_days.setdefault(kind.source, set())]
        pool = fresh or candidates
        day = pool[int(rng.integers(0, len(pool)))]
        taken_days[kind.source].add(day)
        relpath = f"{kind.source}/{day}/{kind.file_name}"
        path = landing / relpath
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        header = next(csv.reader([lines[0]]))
        if kind.source == "channel":
            native_of = {
                canonical: native for native, canonical in mappings[Path(kind.file_name).stem].columns.items()
            }
        else:
            native_of = {name: name for name in header}
        canonical_of = {native: canonical for canonical, native in native_of.items()}
        busy = used.setdefault(relpath, set())
        free = [i for i in range(1, len(lines)) if i + 1 not in busy]
        index = free[int(rng.integers(0, len(free)))]
        line_no = index + 1  # physical line, header = 1
        values = next(csv.reader([lines[index]]))
        row = {canonical_of.get(h, h): v for h, v in zip(header, values, strict=True)}
        record: dict = {
            "rule": kind.rule,
            "description": kind.description,
            "source": kind.source,
            "file": relpath,
        }
        if kind.mutate is None:
            lines.append(lines[index])
            files[relpath] += 1
            record.update(line=len(lines), duplicate_of_line=line_no, column=None, value=None, original=None)
            busy.update({len(lines), line_no})
        else:
            assert kind.column is not None
            original = row[kind.column]
            row[kind.column] = kind.mutate(row)
            lines[index] = _format_row([row[canonical_of.get(h, h)] for h in header])
            record.update(
                line=line_no, column=native_of[kind.column], value=row[kind.column], original=original
            )
            busy.add(line_no)
        tmp = path.with_name(path.name + ".part")
        tmp.write_text("".join(lines), encoding="utf-8")
        tmp.replace(path)
        records.append(record)
    return records
