"""``defects=True`` writes known bad rows, each recorded with file, line and rule."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from growthops.contracts import KNOWN_CURRENCIES, LIFECYCLE_STAGES, ORDER_STATUSES
from growthops.generate import generate
from growthops.generator.defects import KINDS

ARGS = {"start": date(2025, 1, 1), "end": date(2025, 3, 31), "scale": 0.01, "seed": 9}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, dict, Path, dict]:
    root = tmp_path_factory.mktemp("generate_defects")
    dirty = generate(root / "dirty", defects=True, **ARGS)
    clean = generate(root / "clean", **ARGS)
    return root / "dirty", dirty, root / "clean", clean


def _row(landing: Path, rel: str, line: int) -> dict[str, str]:
    lines = (landing / rel).read_text(encoding="utf-8").splitlines()
    header = next(csv.reader([lines[0]]))
    return dict(zip(header, next(csv.reader([lines[line - 1]])), strict=True))


def _violates(rule: str, row: dict[str, str], value: str) -> bool:
    def fails_iso(text: str) -> bool:
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return True
        return False

    checks = {
        "negative_amount": lambda: float(value) < 0,
        "unknown_status": lambda: value not in ORDER_STATUSES,
        "discount_refund_exceed_gross": lambda: (
            float(row["discount_amount"]) + float(row["refund_amount"]) > float(row["gross_amount"])
        ),
        "updated_before_created": lambda: (
            datetime.fromisoformat(row["updated_at"]) < datetime.fromisoformat(row["created_at"])
        ),
        "missing_contact_id": lambda: row["contact_id"] == "",
        "unparseable_timestamp": lambda: fails_iso(value),
        "unknown_lifecycle_stage": lambda: value not in LIFECYCLE_STAGES,
        "clicks_exceed_impressions": lambda: int(row["Clicks"]) > int(row["Impr."]),
        "negative_spend": lambda: float(value.replace(",", "")) < 0,
        "unknown_currency": lambda: value not in KNOWN_CURRENCIES,
        "non_positive_rate": lambda: float(value) <= 0,
    }
    return checks[rule]()


def test_every_defect_is_recorded_where_it_is(runs):
    dirty_landing, dirty, _clean_landing, clean = runs
    records = dirty["defects"]
    assert [r["rule"] for r in records] == [k.rule for k in KINDS]
    assert dirty["args"]["defects"] is True and clean["defects"] == []
    for r in records:
        assert r["file"] in dirty["files"]
        assert r["file"].split("/")[1] != "2025-01-01"  # the first day stays clean
        row = _row(dirty_landing, r["file"], r["line"])
        if r["rule"] == "duplicate_key":
            assert r["line"] == dirty["files"][r["file"]] + 1  # appended as the last line
            assert row == _row(dirty_landing, r["file"], r["duplicate_of_line"])
            assert dirty["files"][r["file"]] == clean["files"][r["file"]] + 1
        else:
            assert row[r["column"]] == r["value"] != r["original"]
            assert _violates(r["rule"], row, r["value"]), r
    # one defect per file: a test can attribute each reject to one rule
    assert len({r["file"] for r in records}) == len(records)


def test_only_the_recorded_lines_differ_from_a_clean_run(runs):
    dirty_landing, dirty, clean_landing, _clean = runs
    touched = {r["file"] for r in dirty["defects"]}
    for rel in dirty["files"]:
        a = (dirty_landing / rel).read_bytes()
        b = (clean_landing / rel).read_bytes()
        if rel not in touched:
            assert a == b, rel
            continue
        record = next(r for r in dirty["defects"] if r["file"] == rel)
        a_lines, b_lines = a.decode().splitlines(), b.decode().splitlines()
        differing = [i + 1 for i, (x, y) in enumerate(zip(a_lines, b_lines, strict=False)) if x != y]
        differing += list(range(len(b_lines) + 1, len(a_lines) + 1))
        assert differing == [record["line"]], rel


def test_defects_are_deterministic(runs, tmp_path):
    _dirty_landing, dirty, _clean_landing, _clean = runs
    again = generate(tmp_path / "again", defects=True, **ARGS)
    assert again["defects"] == dirty["defects"]


def test_unparseable_timestamp_is_the_only_unparseable_value_at_its_line(runs):
    # Note: DuckDB's read_csv turns an unparseable value of a TIMESTAMPTZ column into NULL
    # without an error (duckdb/duckdb#24820), so read text and cast explicitly.
    dirty_landing, dirty, clean_landing, _clean = runs
    record = next(r for r in dirty["defects"] if r["rule"] == "unparseable_timestamp")
    con = duckdb.connect()

    def bad_lines(landing: Path) -> list[int]:
        sql = (
            "SELECT line FROM (SELECT row_number() OVER () + 1 AS line, created_at "
            f"FROM read_csv('{landing / record['file']}', header = true, auto_detect = false, all_varchar = true, "
            "columns = {'contact_id': 'VARCHAR', 'email': 'VARCHAR', 'created_at': 'VARCHAR', "
            "'updated_at': 'VARCHAR', 'lifecycle_stage': 'VARCHAR', 'utm_source': 'VARCHAR', "
            "'utm_medium': 'VARCHAR', 'utm_campaign': 'VARCHAR', 'country': 'VARCHAR', 'is_deleted': 'VARCHAR'})) "
            "WHERE try_cast(created_at AS TIMESTAMPTZ) IS NULL"
        )
        return [r[0] for r in con.sql(sql).fetchall()]

    assert bad_lines(clean_landing) == []
    assert bad_lines(dirty_landing) == [record["line"]]
