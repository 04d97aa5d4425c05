"""Hand-written rows straight into the raw tables of a test warehouse (no files, no gate).

For data the raw gate would refuse (duplicated keys, unknown platforms, ...): the dbt tests must
catch it too. Generated files go through the ingestion bulk path instead (see conftest.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import duckdb

from growthops.contracts import CONTRACTS, LINEAGE_COLUMNS


@dataclass(frozen=True)
class Batch:
    source: str
    day: date

    @property
    def batch_id(self) -> str:
        return f"{self.source}-{self.day.isoformat()}"

    @property
    def loaded_at(self) -> datetime:
        return datetime.combine(self.day + timedelta(days=1), time(6, 0))


def insert_rows(con: duckdb.DuckDBPyConnection, source: str, rows: list[dict], batch: Batch) -> None:
    """Insert hand-written contract rows (dicts) as one batch (one file) of ``source``."""
    contract = CONTRACTS[source]
    names = [c.name for c in contract.columns]
    placeholders = ", ".join(["?"] * (len(names) + len(LINEAGE_COLUMNS)))
    for line, row in enumerate(rows, start=2):
        unknown = set(row) - set(names)
        assert not unknown, f"unknown columns for {source}: {unknown}"
        lineage = [
            batch.batch_id,
            batch.day,
            f"{source}/{batch.day.isoformat()}/hand-written.csv",
            line,
            None,
        ]
        con.execute(
            f"insert into {contract.raw_table} values ({placeholders})",
            [row.get(n) for n in names] + [*lineage, batch.loaded_at],
        )
