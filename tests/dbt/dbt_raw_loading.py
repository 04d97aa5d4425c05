"""Fill the raw tables of a test warehouse: hand-written rows, or landing files read by DuckDB.

Only for the dbt tests. The real path is the ingestion (``growthops.ingest``); this loader reads
generated landing files into ``raw.*`` with the same lineage columns (one batch per source and
landing day, newer days loaded later) so that the dbt project can be built and checked on its
own. It does no gating: the generator writes clean files unless ``defects=True``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb

from growthops.config import REPO_ROOT
from growthops.contracts import CONTRACTS, LINEAGE_COLUMNS
from growthops.warehouse import create_raw_tables

PLATFORMS_DIR = REPO_ROOT / "config" / "platforms"
SOURCES = ("channel", "crm", "orders", "fx")


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def next_morning(day: date) -> datetime:
    """Deterministic load time of a landing day loaded by the daily run: the next morning."""
    return datetime.combine(day + timedelta(days=1), time(6, 0))


@dataclass(frozen=True)
class Batch:
    source: str
    day: date
    loaded_at: datetime | None = None  # default: the next morning (a daily run)

    @property
    def load_time(self) -> datetime:
        return self.loaded_at or next_morning(self.day)

    @property
    def batch_id(self) -> str:
        return f"{self.source}-{self.day.isoformat()}-{self.load_time:%Y%m%dT%H%M%S}"


def insert_rows(con: duckdb.DuckDBPyConnection, source: str, rows: list[dict], batch: Batch) -> None:
    """Insert hand-written contract rows (dicts) as one batch of ``source``."""
    contract = CONTRACTS[source]
    names = [c.name for c in contract.columns]
    lineage = [c.name for c in LINEAGE_COLUMNS]
    placeholders = ", ".join(["?"] * (len(names) + len(lineage)))
    for line, row in enumerate(rows, start=2):
        unknown = set(row) - set(names)
        assert not unknown, f"unknown columns for {source}: {unknown}"
        values = [row.get(n) for n in names] + [
            batch.batch_id,
            batch.day,
            f"{source}/{batch.day.isoformat()}/hand-written",
            line,
            None,
            batch.load_time,
        ]
        con.execute(f"insert into {contract.raw_table} values ({placeholders})", values)


def _utc(expr: str) -> str:
    # offsets in the file are honoured; a value without an offset is read as UTC
    return f"timezone('UTC', cast({expr} as timestamptz))"


def _nullif(expr: str) -> str:
    return f"nullif(trim({expr}), '')"


def _columns(source: str, platform: str | None) -> str:
    if source == "channel":
        mapping = json.loads((PLATFORMS_DIR / f"{platform}.json").read_text(encoding="utf-8"))
        native = {canonical: header for header, canonical in mapping["columns"].items()}

        def col(name: str) -> str:
            return '"' + native[name].replace('"', '""') + '"'

        platform_expr = col("platform") if "platform" in native else sql_str(platform or "")
        return f"""
            cast({col("date")} as date), {platform_expr}, {col("campaign_id")}, {col("campaign_name")},
            cast({col("impressions")} as bigint), cast({col("clicks")} as bigint),
            cast(replace({col("spend")}, ',', '') as decimal(18, 4)), {col("currency")}"""
    if source == "crm":
        return f"""
            contact_id, {_nullif("email")}, {_utc("created_at")}, {_utc("updated_at")}, lifecycle_stage,
            {_nullif("utm_source")}, {_nullif("utm_medium")}, {_nullif("utm_campaign")}, {_nullif("country")},
            cast({_nullif("is_deleted")} as boolean)"""
    if source == "orders":
        return f"""
            order_id, {_nullif("contact_id")}, {_utc("created_at")}, {_utc("updated_at")}, status, currency,
            cast(gross_amount as decimal(18, 4)), cast(discount_amount as decimal(18, 4)),
            cast(refund_amount as decimal(18, 4))"""
    return "cast(date as date), currency, cast(usd_rate as decimal(18, 8))"


def load_batches(con: duckdb.DuckDBPyConnection, landing: Path, batches: list[Batch]) -> int:
    """(Re)load every file of the given batches (same source); one batch per landing day."""
    if not batches:
        return 0
    source = batches[0].source
    assert all(b.source == source for b in batches)
    contract = CONTRACTS[source]
    landing = Path(landing)
    by_day = {b.day: b for b in batches}
    files = sorted(f for day in by_day for f in (landing / source / day.isoformat()).glob("*.csv"))
    con.execute("create or replace temp table _batches (day date, batch_id varchar, loaded_at timestamp)")
    con.executemany(
        "insert into _batches values (?, ?, ?)", [[b.day, b.batch_id, b.load_time] for b in batches]
    )
    con.execute(f"delete from {contract.raw_table} where _batch_day in (select day from _batches)")
    if not files:
        return 0
    groups: dict[str | None, list[Path]] = {}
    for f in files:
        groups.setdefault(f.stem if source == "channel" else None, []).append(f)
    names = ", ".join(f'"{c.name}"' for c in contract.columns)
    prefix = len(str(landing)) + 2  # substr is 1-based; skip the slash
    selects = []
    for platform, paths in groups.items():
        listing = ", ".join(sql_str(str(p)) for p in paths)
        selects.append(
            f"""
            select {_columns(source, platform)},
                substr(filename, {prefix}) as _source_file,
                cast(row_number() over (partition by filename) + 1 as bigint) as _source_line
            from read_csv([{listing}], header = true, all_varchar = true, quote = '"', escape = '"',
                          filename = true, union_by_name = true)"""
        )
    before = con.execute(f"select count(*) from {contract.raw_table}").fetchone()[0]
    con.execute(
        f"""
        insert into {contract.raw_table}
        select files.* exclude (_source_file, _source_line, day),
            _batches.batch_id, _batches.day, files._source_file, files._source_line, null, _batches.loaded_at
        from (
            select *, cast(split_part(_source_file, '/', 2) as date) as day
            from ({" union all ".join(selects)}) as f({names}, _source_file, _source_line)
        ) as files
        inner join _batches on files.day = _batches.day
        """
    )
    return con.execute(f"select count(*) from {contract.raw_table}").fetchone()[0] - before


def landing_days(landing: Path, source: str) -> list[date]:
    root = Path(landing) / source
    return sorted(date.fromisoformat(p.name) for p in root.iterdir() if p.is_dir()) if root.exists() else []


def load_landing(
    warehouse: Path,
    landing: Path,
    *,
    first_day: date | None = None,
    last_day: date | None = None,
    loaded_at: datetime | None = None,
    sources: tuple[str, ...] = SOURCES,
) -> int:
    """Load every landing day in [first_day, last_day] of ``sources``, oldest first.

    ``loaded_at`` None = each day loaded the next morning (daily runs); a value = a re-delivery or
    backfill loaded at that time (it replaces the batches of those days).
    """
    con = duckdb.connect(str(warehouse))
    try:
        create_raw_tables(con)
        total = 0
        for source in sources:
            days = [
                d
                for d in landing_days(landing, source)
                if not ((first_day and d < first_day) or (last_day and d > last_day))
            ]
            total += load_batches(con, landing, [Batch(source, d, loaded_at) for d in days])
        return total
    finally:
        con.close()
