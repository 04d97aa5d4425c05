"""A multi-part export (``orders_part1.csv`` + ``orders_part2.csv`` for one day) is ONE batch: one
ledger row and batch id over every part, each part's sha256 recorded, a re-delivered part
re-judging the whole day, and one bad part refusing the whole day with a report naming its line."""

from __future__ import annotations

import hashlib
import json
from datetime import date

from growthops.ingest.ledger import batch_id, parts_sha256
from growthops.ingest.loader import ingest_day, load_range

from .conftest import ORDERS_HEADER, order_row

D1 = date(2025, 1, 2)


def _part(ids: range, *, extra: tuple[str, ...] = ()) -> str:
    return "\n".join([ORDERS_HEADER, *(order_row(i, day=D1) for i in ids), *extra]) + "\n"


def _sha(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _group_id(parts: dict[str, str]) -> str:
    names = list(parts)
    return batch_id("orders", D1, "+".join(names), parts_sha256(names, [_sha(parts[n]) for n in names]))


def test_parts_load_as_one_batch_and_a_redelivered_part_replaces_the_whole_day(settings, landing, wh):
    parts = {"orders_part1.csv": _part(range(1, 4)), "orders_part2.csv": _part(range(4, 6))}
    for name, text in parts.items():
        landing.put("orders", name, text, day=D1)
    result = ingest_day(settings, "orders", D1)
    first = _group_id(parts)
    assert [(o.source_file, o.batch_id, o.rows_loaded) for o in result.outcomes] == [
        (f"orders/{D1}/orders_part1.csv", first, 3),
        (f"orders/{D1}/orders_part2.csv", first, 2),
    ]
    ledger = wh.rows(
        "select batch_id, export_key, status, rows_in_file, rows_loaded, parts from raw.load_ledger"
    )
    assert [row[:5] for row in ledger] == [(first, "orders", "loaded", 5, 5)]
    recorded = json.loads(ledger[0][5])
    assert [(p["source_file"], p["sha256"], p["rows_loaded"]) for p in recorded] == [
        (f"orders/{D1}/orders_part1.csv", _sha(parts["orders_part1.csv"]), 3),
        (f"orders/{D1}/orders_part2.csv", _sha(parts["orders_part2.csv"]), 2),
    ]
    assert wh.rows(
        "select _batch_id, _source_file, count(*) from raw.shop_orders group by all order by 2"
    ) == [(first, f"orders/{D1}/orders_part1.csv", 3), (first, f"orders/{D1}/orders_part2.csv", 2)]

    # part 2 re-delivered with one more order: the whole day is one new batch replacing the old one
    parts["orders_part2.csv"] = _part(range(4, 7))
    landing.put("orders", "orders_part2.csv", parts["orders_part2.csv"], day=D1)
    ingest_day(settings, "orders", D1)
    second = _group_id(parts)
    assert wh.rows(
        "select batch_id, superseded_by, rows_loaded from raw.load_ledger order by started_at"
    ) == [
        (first, second, 5),
        (second, None, 6),
    ]
    assert wh.rows("select _batch_id, count(*) from raw.shop_orders group by all") == [(second, 6)]

    # the same parts again: a no-op for both files, no new ledger row
    again = ingest_day(settings, "orders", D1)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"]
    assert wh.count("raw.load_ledger") == 2


def test_one_bad_part_quarantines_the_whole_day_with_a_report_naming_file_and_line(settings, landing, wh):
    good = _part(range(1, 4))
    bad = _part(range(4, 6), extra=('O6,C1,"2025-01-02T10:06:00+00:00',))  # unclosed quote, no newline
    bad = bad.rstrip("\n")
    landing.put("orders", "orders_part1.csv", good, day=D1)
    landing.put("orders", "orders_part2.csv", bad, day=D1)
    result = load_range(settings, "orders", D1, D1)
    assert [(o.status, o.rows_loaded) for o in result.outcomes] == [("quarantined", 0), ("quarantined", 0)]
    assert not result.ok and wh.count("raw.shop_orders") == 0
    assert wh.rows("select status, rows_loaded from raw.load_ledger") == [("quarantined", 0)]

    q = settings.quarantine_dir / "orders" / D1.isoformat()
    assert (q / "orders_part1.csv").read_bytes() == good.encode()  # both moved, byte-identical
    assert (q / "orders_part2.csv").read_bytes() == bad.encode()
    assert not list((settings.landing_dir / "orders" / D1.isoformat()).iterdir())
    withheld = (q / "orders_part1.csv.report.md").read_text()
    assert f"part orders/{D1}/orders_part2.csv refused: file_truncated" in withheld
    assert "| 4 | see orders_part2.csv.report.md beside this file |" in withheld  # part 2's unclosed record
    assert f"orders/{D1}/orders_part1.csv" in (q / "orders_part2.csv.report.md").read_text()


def test_a_key_repeated_across_parts_is_a_duplicate_and_parts_wait_for_each_other(
    settings, landing, wh, monkeypatch
):
    monkeypatch.setenv("GROWTHOPS_SOURCES_ORDERS_REJECT_THRESHOLD", "0.5")
    from growthops.config import load_settings

    settings = load_settings()
    landing.put("orders", "orders_part1.csv", _part(range(1, 4)), day=D1)
    landing.put("orders", "orders_part2.csv.part", _part(range(3, 6)), day=D1)  # still being written
    result = load_range(settings, "orders", D1, D1)
    assert result.outcomes == [] and len(result.pending) == 2  # part 1 waits for part 2
    assert "orders_part2.csv.part is still being written" in result.pending[1]

    (settings.landing_dir / "orders" / D1.isoformat() / "orders_part2.csv.part").rename(
        settings.landing_dir / "orders" / D1.isoformat() / "orders_part2.csv"
    )
    result = load_range(settings, "orders", D1, D1)
    assert [(o.status, o.rows_loaded, o.rows_rejected) for o in result.outcomes] == [
        ("loaded_with_rejects", 2, 1),
        ("loaded_with_rejects", 2, 1),
    ]
    assert wh.rows("select source_file, line, rule, value from raw.rejects order by 1") == [
        (f"orders/{D1}/orders_part1.csv", 4, "duplicate_key", "O3"),
        (f"orders/{D1}/orders_part2.csv", 2, "duplicate_key", "O3"),
    ]
