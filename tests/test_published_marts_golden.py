"""The published marts of one fixed generated range, pinned row for row.

A refactor must not change what BI reads: this test reads the shared world of the root conftest
(a fixed generated range, the project's generator with a fixed seed, backfilled and published)
and compares every mart's row count and a hash of all its rows (every column but load times)
with ``tests/golden/published_marts.json``.

When a change *means* to change the marts (a new column, a new mart, a generator change),
regenerate the file and say why in the commit:
``GROWTHOPS_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_published_marts_golden.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

GOLDEN = Path(__file__).parent / "golden" / "published_marts.json"


def _volatile(column: str) -> bool:
    return column.endswith("loaded_at")  # wall-clock load times differ from run to run


def mart_fingerprints(serving_path: Path) -> dict[str, dict]:
    """Per mart: columns, row count and an order-independent md5 over every row's values."""
    con = duckdb.connect(str(serving_path), read_only=True)
    try:
        out = {}
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
        for (table,) in tables:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
            ]
            kept = [c for c in columns if not _volatile(c)]
            row = (
                "concat_ws('|', " + ", ".join(f"coalesce(cast(\"{c}\" as varchar), '∅')" for c in kept) + ")"
            )
            rows, digest = con.execute(
                f"select count(*), md5(coalesce(string_agg({row}, chr(10) order by {row}), '')) "
                f'from marts."{table}"'
            ).fetchone()
            out[table] = {"columns": columns, "rows": rows, "md5": digest}
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def published(published_world) -> Path:
    return published_world.serving_path


def test_published_marts_equal_the_golden_fingerprints(published):
    actual = mart_fingerprints(published)
    if os.environ.get("GROWTHOPS_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(actual) == sorted(expected), "published mart tables differ"
    for table, fingerprint in expected.items():
        assert actual[table]["columns"] == fingerprint["columns"], f"{table}: columns differ"
        assert actual[table]["rows"] == fingerprint["rows"], f"{table}: row count differs"
        assert actual[table]["md5"] == fingerprint["md5"], f"{table}: values differ"
