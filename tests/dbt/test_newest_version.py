"""The two implementations of ``newest_version`` (macros/latest_version.sql) pick the same rows.

PostgreSQL ranks versions with ``row_number()``; DuckDB takes a spilling ``max`` of one integer
per version (DECISIONLOG 53). Both are compiled by dbt (``dbt compile --inline``) and run here on
DuckDB over the same versions: hand-made ties on every tie-breaker with the winners worked out by
hand, and a few thousand generated versions with many ties.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import duckdb
import pytest
from conftest import ORACLE_VARS
from dbt_helpers import explain, run_dbt

COLUMNS = (
    "k varchar, part integer, updated_at timestamp, source_batch_id varchar, source_batch_day date, "
    "source_file varchar, source_line bigint, source_loaded_at timestamp, payload varchar"
)
T = datetime(2025, 3, 1, 10)
D = date(2025, 3, 1)

# (key, part, updated_at, batch_id, batch_day, file, line, loaded_at, payload); the winner's payload is "win"
HAND_MADE = [
    # the newest updated_at wins even from an older batch
    ("a", 0, T + timedelta(hours=1), "b1", D, "f.csv", 2, T, "win"),
    ("a", 0, T, "b2", D + timedelta(days=1), "f.csv", 2, T + timedelta(days=1), "lose"),
    # same updated_at: the later export day
    ("b", 0, T, "b9", D, "f.csv", 3, T + timedelta(days=5), "lose"),
    ("b", 0, T, "b1", D + timedelta(days=1), "f.csv", 3, T, "win"),
    # same day: the later load
    ("c", 0, T, "b8", D, "f.csv", 4, T, "lose"),
    ("c", 0, T, "b1", D, "f.csv", 4, T + timedelta(minutes=1), "win"),
    # same load: the greater batch id
    ("d", 0, T, "b3", D, "f.csv", 5, T, "lose"),
    ("d", 0, T, "b4", D, "f.csv", 5, T, "win"),
    # same batch: the later file
    ("e", 0, T, "b5", D, "a.csv", 9, T, "lose"),
    ("e", 0, T, "b5", D, "b.csv", 1, T, "win"),
    # same file: the later line
    ("f", 0, T, "b6", D, "f.csv", 7, T, "win"),
    ("f", 0, T, "b6", D, "f.csv", 6, T, "lose"),
    # one version
    ("g", 0, T - timedelta(days=300), "b7", D, "f.csv", 1, T, "win"),
]


def _generated(n: int = 4000, seed: int = 5) -> list[tuple]:
    """Versions of 300 keys in 12 batches of 3 files, few distinct values: ties everywhere."""
    rng = random.Random(seed)
    batches = {
        f"b{i:02d}": (D + timedelta(days=rng.randrange(4)), T + timedelta(hours=rng.randrange(3)))
        for i in range(12)
    }
    lines: dict[tuple[str, str], int] = {}
    rows = []
    for i in range(n):
        batch = rng.choice(sorted(batches))
        file = rng.choice(("a.csv", "b.csv", "c.csv"))
        lines[batch, file] = lines.get((batch, file), 0) + rng.randrange(1, 3)
        day, loaded = batches[batch]
        rows.append(
            (
                f"k{rng.randrange(300)}",
                rng.randrange(3),
                T + timedelta(minutes=rng.randrange(4)),
                batch,
                day,
                file,
                lines[batch, file],
                loaded,
                f"v{i}",
            )
        )
    return rows


def _compile(built_warehouse, dbt_work_dir, call: str) -> str:
    run = run_dbt(
        built_warehouse["path"],
        ["compile", "--inline", "{{ " + call + " }}"],
        work_dir=dbt_work_dir,
        vars=ORACLE_VARS,
    )
    assert run.success, explain(run)
    (sql,) = run.compiled.values()
    return sql


def _winners(rows: list[tuple], sql: str) -> list[tuple]:
    import pandas as pd

    names = [c.split()[0] for c in COLUMNS.split(", ")]
    frame = pd.DataFrame(rows, columns=names)  # noqa: F841 (read by DuckDB below)
    with duckdb.connect() as con:
        con.execute(f"create table v ({COLUMNS})")
        con.execute("insert into v select * from frame")
        return con.execute(
            f"with versions as (select * from v) select * from ({sql}) as winners order by all"
        ).fetchall()


@pytest.fixture(scope="module")
def compiled(built_warehouse, dbt_work_dir) -> dict[str, str]:
    calls = {
        "by_updated_at": "('versions', ['k'], ['updated_at'])",
        "by_batch": "('versions', ['k', 'part'], [])",
    }
    return {
        f"{impl}/{name}": _compile(built_warehouse, dbt_work_dir, f"growthops.{impl}__newest_version{args}")
        for impl in ("default", "duckdb")
        for name, args in calls.items()
    }


@pytest.mark.parametrize("impl", ["default", "duckdb"])
def test_hand_made_ties_are_won_by_the_newest_version(compiled, impl):
    winners = _winners(HAND_MADE, compiled[f"{impl}/by_updated_at"])
    assert [(w[0], w[-1]) for w in winners] == [(k, "win") for k in "abcdefg"]


@pytest.mark.parametrize("name", ["by_updated_at", "by_batch"])
def test_duckdb_picks_the_rows_row_number_picks(compiled, name):
    rows = _generated()
    expected = _winners(rows, compiled[f"default/{name}"])
    assert len(expected) == len({(r[0], r[1]) if name == "by_batch" else r[0] for r in rows})
    assert _winners(rows, compiled[f"duckdb/{name}"]) == expected


def test_duckdb_refuses_two_newest_first_columns(built_warehouse, dbt_work_dir, capsys):
    run = run_dbt(
        built_warehouse["path"],
        [
            "compile",
            "--inline",
            "{{ growthops.duckdb__newest_version('versions', ['k'], ['updated_at', 'part']) }}",
        ],
        work_dir=dbt_work_dir,
        vars=ORACLE_VARS,
    )
    assert not run.success
    assert "at most one newest_first column (a timestamp), got updated_at, part" in capsys.readouterr().out
