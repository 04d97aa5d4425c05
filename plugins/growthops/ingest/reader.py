"""Reading export files into a staged, all-text relation — explicit schema, no sniffing, exact lines.

Every file of a batch (one file for a daily run, hundreds for a backfill: same code) ends up in
the temp table ``_ing_text``: one row per record with the contract columns as trimmed text
(``NULL`` when empty), unknown extra columns as a JSON object, the raw record text, the physical
line where the record starts, and a *structural* rule when the record cannot be trusted at all.

CSV is parsed by DuckDB SQL, not by ``read_csv``'s dialect detection (SPEC §2 lists how sniffing
goes wrong): the file is decoded as UTF-8 (a BOM is dropped, invalid UTF-8 fails the file), split
into physical lines, lines are joined into records by RFC 4180 quote parity (a line starts a new
record when the number of ``"`` before it is even), and records are split into fields —
``string_split`` when a record has no quote, an RFC 4180 field regex (validated by a full match)
when it has. Physical line numbers are therefore exact even with quoted embedded newlines, a
record with the wrong number of fields is *rejected* (an unquoted ``1,234.50`` gives one field too
many; it never shifts columns), and a header line repeated inside the file is recognised.

JSON Lines: one object per line; the header is the union of the keys in the file. Parquet: the
column names are the header, ``_source_line`` is the 1-based row number.

Headers are matched against the contract (or, for channel files ``<platform>.<ext>``, against
``config/platforms/<platform>.json``) by trimmed, case-insensitive name; column order is free
(:mod:`.header`). The SELECT of each format's text rows is :mod:`.text_sql`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb

from growthops.contracts import CONTRACTS, PlatformMapping
from growthops.errors import QualityCheck
from growthops.ingest.header import HeaderPlan, plan_header
from growthops.ingest.landing import LandingFile
from growthops.ingest.text_sql import (
    FIELD_RE,
    RECORD_RE,
    csv_group_sql,
    empty_text_sql,
    jsonl_group_sql,
    parquet_file_sql,
)
from growthops.sql import quote

__all__ = ["FileFacts", "Staged", "stage"]


@dataclass
class FileFacts:
    """What staging learnt about a file, before any row rule."""

    file_id: int
    bytes: int = 0
    utf8_ok: bool = True
    records: int = 0  # data records (header and blank lines excluded)
    ends_with_newline: bool = True
    truncated: bool = False  # last record incomplete and no final newline
    unterminated_quote: bool = False


# --------------------------------------------------------------------------------------------------
# staging SQL


def register_files(con: duckdb.DuckDBPyConnection, files: list[LandingFile], extra: dict[str, list]) -> None:
    """``_ing_files``: one row per file of the batch (file_id = position in ``files``)."""
    con.execute(
        """
        create or replace temp table _ing_files as
        select unnest(?::int[]) as file_id, unnest(?::varchar[]) as path,
               unnest(?::varchar[]) as rel_path, unnest(?::varchar[]) as name,
               unnest(?::date[]) as day, unnest(?::varchar[]) as format,
               unnest(?::varchar[]) as export_key, unnest(?::varchar[]) as batch_id,
               unnest(?::varchar[]) as sha256, null::int as grp, '%Y-%m-%d' as date_format
        """,
        [
            list(range(len(files))),
            [f.read_path for f in files],
            [f.rel_path for f in files],
            [f.name for f in files],
            [f.day for f in files],
            [f.format for f in files],
            [f.export_key for f in files],
            extra["batch_id"],
            extra["sha256"],
        ],
    )


def stage_lines(con: duckdb.DuckDBPyConnection, paths: list[str]) -> None:
    """``_ing_blob`` (facts per CSV/JSONL file) and ``_ing_lines`` (physical lines, CR dropped)."""
    con.execute(
        """
        create or replace temp table _ing_decoded as
        with b as (
            select f.file_id, b.size as bytes, try(decode(b.content)) as text
            from read_blob(?) b
            join _ing_files f on f.path = b.filename
        )
        select file_id, bytes, text is not null as utf8_ok,
               coalesce(ends_with(text, chr(10)), true) as ends_nl,
               case when starts_with(text, chr(65279)) then substr(text, 2) else text end as text
        from b
        """,
        [paths],
    )
    con.execute(
        """
        create or replace temp table _ing_lines as
        select file_id, line_no,
               case when ends_with(raw, chr(13)) then raw[:-2] else raw end as line
        from (
            select file_id, generate_subscripts(ls, 1) as line_no, unnest(ls) as raw
            from (select file_id, string_split(text, chr(10)) as ls from _ing_decoded where text <> '')
        )
        """
    )
    con.execute(
        "create or replace temp table _ing_blob as select file_id, bytes, utf8_ok, ends_nl from _ing_decoded"
    )
    # json_type() raises on malformed JSON: only ask it about valid documents
    con.execute(
        "create or replace temp macro is_object(doc) as "
        "coalesce(case when json_valid(doc) then json_type(doc) = 'OBJECT' end, false)"
    )
    con.execute("drop table _ing_decoded")


def stage_csv_records(con: duckdb.DuckDBPyConnection) -> None:
    """``_ing_csv``: one row per CSV record (header included, rn = 1) with its fields split."""
    con.execute(
        f"""
        create or replace temp table _ing_csv as
        with l as (
            select l.file_id, l.line_no, l.line,
                   case when contains(l.line, '"')
                        then strlen(l.line) - strlen(replace(l.line, '"', '')) else 0 end as q
            from _ing_lines l join _ing_files f using (file_id)
            where f.format = 'csv'
        ),
        multi as (select file_id from l group by file_id having bool_or(q % 2 = 1)),
        single_line as (
            select file_id, line_no as line, line as rec, false as unterminated
            from l anti join multi using (file_id)
            where line <> ''
        ),
        parity as (
            select l.*, coalesce(sum(q) over (
                partition by file_id order by line_no rows between unbounded preceding and 1 preceding
            ), 0) % 2 = 0 as is_start
            from l semi join multi using (file_id)
        ),
        grouped as (
            select *, sum(is_start::int) over (partition by file_id order by line_no) as grp from parity
        ),
        multi_line as (
            select file_id, min(line_no) as line, string_agg(line, chr(10) order by line_no) as rec,
                   sum(q) % 2 = 1 as unterminated
            from grouped group by file_id, grp
        ),
        recs as (
            select * from single_line
            union all
            select * from multi_line where rec <> ''
        )
        select file_id, line, rec, unterminated,
               case when not contains(rec, '"') then string_split(rec, ',')
                    else list_transform(
                        regexp_extract_all(',' || rec, ',{FIELD_RE}', 1),
                        lambda x: case when starts_with(x, '"') then replace(x[2:-2], '""', '"') else x end)
               end as fields,
               contains(rec, '"') and not regexp_full_match(',' || rec, '{RECORD_RE}') as bad_quoting
        from recs
        """
    )
    con.execute(
        """
        create or replace temp table _ing_csv_bounds as
        select file_id, min(line) as header_line, max(line) as last_line, count(*) - 1 as records
        from _ing_csv group by file_id
        """
    )


def stage_jsonl_keys(con: duckdb.DuckDBPyConnection) -> dict[int, list[str]]:
    """Union of the top-level keys of each JSON Lines file (its 'header')."""
    rows = con.execute(
        """
        select file_id, list(distinct k order by k)
        from (
            select l.file_id, unnest(case when is_object(l.line) then json_keys(l.line) end) as k
            from _ing_lines l join _ing_files f using (file_id)
            where f.format = 'jsonl' and l.line <> ''
        )
        group by file_id
        """
    ).fetchall()
    return {r[0]: list(r[1]) for r in rows}


def parquet_columns(con: duckdb.DuckDBPyConnection, path: str) -> list[str]:
    return [r[0] for r in con.execute("describe select * from read_parquet(?)", [path]).fetchall()]


@dataclass
class Staged:
    """Result of staging a batch: header plans and file facts per file_id."""

    plans: dict[int, HeaderPlan]
    facts: dict[int, FileFacts]


def stage(
    con: duckdb.DuckDBPyConnection,
    source: str,
    files: list[LandingFile],
    mappings: dict[str, PlatformMapping],
    batch_ids: list[str],
    shas: list[str],
) -> Staged:
    """Read every file of the batch into ``_ing_text`` (text columns, lines, structural rules)."""
    register_files(con, files, {"batch_id": batch_ids, "sha256": shas})
    staging = _Staging(con, source, files, mappings)
    text_ids = [i for i, f in enumerate(files) if f.format in ("csv", "jsonl")]
    if text_ids:
        staging.read_text([files[i].read_path for i in text_ids])
    formats = {files[i].format for i in text_ids}
    if "csv" in formats:
        staging.plan_csv()
    if "jsonl" in formats:
        staging.plan_jsonl(text_ids)
    staging.plan_parquet()
    for fid in range(len(files)):  # no header at all, or not UTF-8: nothing to map
        staging.plans.setdefault(fid, HeaderPlan(fid, [], {}, {}, has_header=False))
        if not staging.facts[fid].utf8_ok:
            staging.plans[fid] = HeaderPlan(fid, [], {}, {}, has_header=False)
    staging.create_text_view()
    return Staged(plans=staging.plans, facts=staging.facts)


class _Staging:
    """The header plans and file facts of one batch, filled in format by format."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        source: str,
        files: list[LandingFile],
        mappings: dict[str, PlatformMapping],
    ):
        self.con, self.source, self.files, self.mappings = con, source, files, mappings
        self.facts = {i: FileFacts(file_id=i) for i in range(len(files))}
        self.plans: dict[int, HeaderPlan] = {}
        self.platform = {i: (f.export_key if source == "channel" else None) for i, f in enumerate(files)}

    def plan(self, fid: int, found: list[str] | None, *, positional: bool) -> HeaderPlan:
        return plan_header(fid, self.source, found, self.platform[fid], self.mappings, positional=positional)

    def read_text(self, paths: list[str]) -> None:
        """Lines of the CSV and JSON Lines files; bytes, UTF-8 and final newline per file."""
        stage_lines(self.con, paths)
        for fid, nbytes, utf8_ok, ends_nl in self.con.execute(
            "select file_id, bytes, utf8_ok, ends_nl from _ing_blob"
        ).fetchall():
            f = self.facts[fid]
            f.bytes, f.utf8_ok, f.ends_with_newline = nbytes, utf8_ok, ends_nl

    def plan_csv(self) -> None:
        """CSV: header = first record; facts about truncation."""
        stage_csv_records(self.con)
        for fid, fields in self.con.execute(
            "select file_id, fields from _ing_csv join _ing_csv_bounds using (file_id) where line = header_line"
        ).fetchall():
            self.plans[fid] = self.plan(fid, list(fields), positional=True)
        for fid, records, last_fields, last_unterminated in self.con.execute(
            """
            select file_id, k.records, len(c.fields), c.unterminated
            from _ing_csv c join _ing_csv_bounds k using (file_id) where c.line = k.last_line
            """
        ).fetchall():
            f = self.facts[fid]
            f.records = records
            f.unterminated_quote = bool(last_unterminated) and records > 0
            if fid in self.plans and records > 0:
                short = last_fields < len(self.plans[fid].found)
                f.truncated = f.unterminated_quote or (short and not f.ends_with_newline)

    def plan_jsonl(self, text_ids: list[int]) -> None:
        """JSON Lines: header = the union of the keys; truncated when the last line is not JSON."""
        keys = stage_jsonl_keys(self.con)
        for fid, n, last_ok in self.con.execute(
            """
            select l.file_id, count(*), arg_max(json_valid(l.line), l.line_no)
            from _ing_lines l join _ing_files f using (file_id)
            where f.format = 'jsonl' and l.line <> '' group by all
            """
        ).fetchall():
            self.facts[fid].records = n
            self.facts[fid].truncated = not last_ok and not self.facts[fid].ends_with_newline
        for fid in text_ids:
            if self.files[fid].format == "jsonl" and self.facts[fid].records:
                self.plans[fid] = self.plan(fid, keys.get(fid, []), positional=False)

    def plan_parquet(self) -> None:
        """Parquet: header = the column names (an unreadable file fails its header)."""
        for fid, f in enumerate(self.files):
            if f.format != "parquet":
                continue
            self.facts[fid].bytes = Path(f.read_path).stat().st_size
            try:
                found = parquet_columns(self.con, f.read_path)
            except duckdb.Error as exc:
                check = QualityCheck("unreadable_parquet", str(exc)[:200], "a Parquet file")
                self.plans[fid] = HeaderPlan(fid, [], {}, {}, checks=[check])
                continue
            self.plans[fid] = self.plan(fid, found, positional=False)

    def create_text_view(self) -> None:
        """``_ing_text``: one SELECT per group of files with an identical header mapping, unioned."""
        contract = CONTRACTS[self.source]
        selects: list[str] = []
        groups: dict[tuple, list[int]] = defaultdict(list)
        for fid, plan in self.plans.items():
            if plan.ok and self.files[fid].format != "parquet":
                groups[(self.files[fid].format, plan.signature())].append(fid)
        for grp, ((fmt, _sig), fids) in enumerate(groups.items(), start=1):
            plan = self.plans[fids[0]]
            self.con.execute(
                "update _ing_files set grp = ?, date_format = ? where file_id in (select unnest(?::int[]))",
                [grp, plan.date_format, fids],
            )
            group_sql = csv_group_sql if fmt == "csv" else jsonl_group_sql
            selects.append(group_sql(contract, plan, grp))
        for fid, f in enumerate(self.files):
            if f.format == "parquet" and self.plans[fid].ok:
                selects.append(parquet_file_sql(contract, self.plans[fid], fid, f.read_path))
                self.facts[fid].records = self.con.execute(
                    "select count(*) from read_parquet(?)", [f.read_path]
                ).fetchone()[0]
        body = "\nunion all\n".join(selects) if selects else empty_text_sql(contract)
        names = ", ".join(
            [
                "file_id",
                "line",
                *(quote(c) for c in contract.names),
                "_extra",
                "raw_record",
                "struct_rule",
                "struct_detail",
            ]
        )
        self.con.execute(f"create or replace temp view _ing_text ({names}) as {body}")
