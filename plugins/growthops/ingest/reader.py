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
``config/platforms/<platform>.json``) by trimmed, case-insensitive name; column order is free.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from growthops.contracts import CONTRACTS, PlatformMapping, SourceContract
from growthops.errors import QualityCheck
from growthops.ingest.landing import LandingFile

# One RFC 4180 field: a quoted field (quotes doubled inside) or an unquoted run without quotes.
FIELD_RE = r'("(?:[^"]|"")*"|[^,"]*)'
RECORD_RE = rf"(?:,{FIELD_RE})+"


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def json_path(key: str) -> str:
    return '$."' + key.replace('"', '\\"') + '"'


def norm(name: str) -> str:
    return name.strip().casefold()


@dataclass
class HeaderPlan:
    """How one file's header maps onto the contract."""

    file_id: int
    found: list[str]  # header as found (trimmed); JSON keys / Parquet columns for those formats
    positions: dict[str, object]  # canonical column -> CSV position (1-based) or JSON key / Parquet column
    extras: dict[str, object]  # unknown column name -> position / key
    date_format: str = "%Y-%m-%d"
    checks: list[QualityCheck] = field(default_factory=list)
    has_header: bool = True

    @property
    def ok(self) -> bool:
        return self.has_header and not self.checks

    @property
    def header_problems(self) -> int | None:
        """Number of failed header checks; None when the file has no header at all (empty)."""
        return len(self.checks) if self.has_header else None

    def signature(self) -> tuple:
        return (
            tuple(sorted(self.positions.items(), key=lambda kv: kv[0])),
            tuple(sorted(self.extras.items(), key=lambda kv: str(kv[0]))),
            len(self.found),
            tuple(norm(h) for h in self.found),
            self.date_format,
        )


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
# header analysis (pure Python on a handful of strings per file)


def expected_names(contract: SourceContract, mapping: PlatformMapping | None) -> dict[str, str]:
    """normalised header name -> canonical column."""
    if mapping is not None:
        return {norm(native): canonical for native, canonical in mapping.columns.items()}
    return {norm(c): c for c in contract.names}


def plan_header(
    file_id: int,
    source: str,
    found: list[str] | None,
    platform: str | None,
    mappings: dict[str, PlatformMapping],
    *,
    positional: bool,
) -> HeaderPlan:
    """Match a found header against the contract (or the platform's mapping file)."""
    contract = CONTRACTS[source]
    if found is None:
        return HeaderPlan(file_id, [], {}, {}, has_header=False)
    found = [h.strip() for h in found]
    mapping = None
    checks: list[QualityCheck] = []
    if source == "channel":
        mapping = mappings.get(platform or "")
        if mapping is None:
            checks.append(
                QualityCheck(
                    rule="unknown_platform",
                    observed=platform,
                    expected=sorted(mappings),
                    detail=f"no mapping file config/platforms/{platform}.json for this platform",
                )
            )
            return HeaderPlan(file_id, found, {}, {}, checks=checks)
    names = expected_names(contract, mapping)
    positions: dict[str, object] = {}
    extras: dict[str, object] = {}
    duplicates = []
    for i, header in enumerate(found, start=1):
        key: object = i if positional else header
        canonical = names.get(norm(header))
        if canonical is None:
            extras[header or f"_column_{i}"] = key
        elif canonical in positions:
            duplicates.append(header)
        else:
            positions[canonical] = key
    if duplicates:
        checks.append(
            QualityCheck(
                rule="duplicate_columns",
                observed=duplicates,
                expected="each contract column once",
                detail=f"found header {found}",
            )
        )
    native_of = {canonical: native for native, canonical in (mapping.columns.items() if mapping else ())}
    required = [c for c in contract.required if c not in positions]
    if required:
        expected = [native_of.get(c, c) for c in contract.required]
        unexpected = [e for e in extras if not e.startswith("_column_")]
        checks.append(
            QualityCheck(
                rule="missing_required_columns",
                observed=[native_of.get(c, c) for c in required],
                expected=expected,
                detail=f"expected columns {expected}; found {found}"
                + (f"; unknown {unexpected} (renamed?)" if unexpected else "")
                + delimiter_hint(found, names),
            )
        )
    return HeaderPlan(
        file_id,
        found,
        positions,
        extras,
        date_format=mapping.date_format if mapping else "%Y-%m-%d",
        checks=checks,
    )


DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def delimiter_hint(found: list[str], names: dict[str, str]) -> str:
    """``; the file looks semicolon-delimited ...`` when the header splits into contract columns by
    another delimiter than the comma (exports must be comma-separated, SPEC §2); else ``""``."""
    header = ",".join(found)
    best = ""
    for delimiter, label in DELIMITERS.items():
        parts = [p.strip().strip('"') for p in header.replace(",", delimiter).split(delimiter)]
        known = [p for p in parts if norm(p) in names]
        if len(known) >= 2 and len(known) > len([f for f in found if norm(f) in names]):
            best = (
                f"; detected delimiter: {label} ({delimiter!r}) — the header splits into {len(parts)} columns "
                f"by it, {len(known)} of them contract columns; exports must be comma-separated: re-export "
                "with ',' as the delimiter"
            )
            break
    return best


def describe_encoding(path: Path, limit: int = 1 << 16) -> str:
    """What a file that is not UTF-8 looks like: gzip, ZIP/XLSX, UTF-16, or the first bad byte."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(limit)
    except OSError as exc:
        return f"unreadable: {exc}"
    if head[:2] == b"\x1f\x8b":
        return "detected: gzip-compressed bytes (a .csv.gz named .csv?): decompress it first"
    if head[:4] == b"PK\x03\x04":
        return "detected: a ZIP archive (an .xlsx workbook?): export it as CSV"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "detected: UTF-16 (byte-order mark): re-export as UTF-8"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = head[exc.start]
        line = head[: exc.start].count(b"\n") + 1
        guess = head[exc.start : exc.start + 1].decode("cp1252", errors="replace")
        return (
            f"detected: byte 0x{bad:02X} at offset {exc.start} (line {line}) is not UTF-8; "
            f"as Windows-1252/Latin-1 it reads {guess!r}: re-export as UTF-8"
        )
    return "detected: invalid UTF-8 after the first 64 KiB"


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
            [str(f.path) for f in files],
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


def empty_text_sql(contract: SourceContract) -> str:
    """A typed, empty relation with the columns of ``_ing_text`` (the view when no file has rows)."""
    cols = ", ".join(f"null::varchar as {ident(c)}" for c in contract.names)
    return (
        f"select null::int as file_id, null::bigint as line, {cols}, null::json as _extra, "
        "null::varchar as raw_record, null::varchar as struct_rule, null::varchar as struct_detail where false"
    )


def _json_object_sql(pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return "null::json"
    return "json_object(" + ", ".join(f"{sql_str(k)}, {v}" for k, v in pairs) + ")"


def csv_group_sql(contract: SourceContract, plan: HeaderPlan, grp: int) -> str:
    """Text rows of every CSV file of header group ``grp`` (files with an identical header)."""
    cols = []
    for c in contract.names:
        pos = plan.positions.get(c)
        cols.append(f"nullif(trim(r.fields[{pos}]), '')" if pos is not None else "null::varchar")
    extra = _json_object_sql([(name, f"r.fields[{pos}]") for name, pos in plan.extras.items()])
    ncols = len(plan.found)
    header = [norm(h) for h in plan.found]
    header_list = "[" + ", ".join(sql_str(h) for h in header) + "]::varchar[]"
    first = sql_str(header[0] if header else "")
    return f"""
        (with r as (
            select r.*, {", ".join(f"{c} as {ident('__c' + str(i))}" for i, c in enumerate(cols))},
                   case when r.unterminated then 'unterminated_quote'
                        when r.bad_quoting then 'malformed_quoting'
                        when len(r.fields) <> {ncols} and r.line = k.last_line and not b.ends_nl
                            then 'truncated_row'
                        when len(r.fields) <> {ncols} then 'field_count'
                        -- cheap test first: only a record starting like the header is compared in full
                        when lower(trim(r.fields[1])) = {first}
                             and list_transform(r.fields, lambda x: lower(trim(x))) = {header_list}
                            then 'repeated_header'
                   end as struct_rule
            from _ing_csv r
            join _ing_files f using (file_id)
            join _ing_blob b using (file_id)
            join _ing_csv_bounds k using (file_id)
            where f.grp = {grp} and r.line > k.header_line
        )
        select r.file_id, r.line, {", ".join(ident("__c" + str(i)) for i in range(len(cols)))},
               {extra}, r.rec, r.struct_rule,
               case r.struct_rule
                    when 'unterminated_quote' then 'a quoted field is never closed'
                    when 'malformed_quoting' then 'stray quote: not RFC 4180'
                    when 'truncated_row' then 'found ' || len(r.fields) || ' fields, expected {ncols}'
                    when 'field_count' then 'found ' || len(r.fields) || ' fields, expected {ncols}'
                    when 'repeated_header' then 'the header line appears again inside the file'
               end
        from r)
        """


def jsonl_group_sql(contract: SourceContract, plan: HeaderPlan, grp: int) -> str:
    """Text rows of every JSON Lines file of key-set group ``grp``."""
    keys = [str(plan.positions[c]) for c in contract.names if c in plan.positions]
    index = {c: i + 1 for i, c in enumerate(c for c in contract.names if c in plan.positions)}
    paths = [json_path(k) for k in keys]
    cols = [f"nullif(trim(v[{index[c]}]), '')" if c in index else "null::varchar" for c in contract.names]
    extra = _json_object_sql(
        [(str(k), f"json_extract(line, {sql_str(json_path(str(k)))})") for k in plan.extras]
    )
    path_list = "[" + ", ".join(sql_str(p) for p in paths) + "]::varchar[]"
    return f"""
        (select file_id, line_no, {", ".join(cols)},
               case when ok then {extra} end, line,
               case when not ok then 'invalid_json' end,
               case when not ok then 'not a JSON object' end
        from (
            select l.file_id, l.line_no, l.line, ok,
                   case when ok then json_extract_string(l.line, {path_list}) end as v
            from (
                select l.*, is_object(l.line) as ok
                from _ing_lines l where l.line <> ''
            ) l
            join _ing_files f using (file_id)
            where f.grp = {grp}
        ))
        """


def parquet_columns(con: duckdb.DuckDBPyConnection, path: str) -> list[str]:
    return [r[0] for r in con.execute("describe select * from read_parquet(?)", [path]).fetchall()]


def parquet_file_sql(contract: SourceContract, plan: HeaderPlan, file_id: int, path: str) -> str:
    """Text rows of one Parquet file (line = 1-based row number)."""
    cols = [
        f"nullif(trim(cast(t.{ident(str(plan.positions[c]))} as varchar)), '')"
        if c in plan.positions
        else "null::varchar"
        for c in contract.names
    ]
    extra = _json_object_sql([(str(k), f"to_json(t.{ident(str(k))})") for k in plan.extras])
    return f"""
        (select {file_id}, t.file_row_number + 1, {", ".join(cols)}, {extra},
               to_json(t)::varchar, null::varchar, null::varchar
        from read_parquet({sql_str(path)}, file_row_number = true) t)
        """


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
    contract = CONTRACTS[source]
    register_files(con, files, {"batch_id": batch_ids, "sha256": shas})
    facts = {i: FileFacts(file_id=i) for i in range(len(files))}
    plans: dict[int, HeaderPlan] = {}
    platform = {i: (f.export_key if source == "channel" else None) for i, f in enumerate(files)}

    text_ids = [i for i, f in enumerate(files) if f.format in ("csv", "jsonl")]
    if text_ids:
        stage_lines(con, [str(files[i].path) for i in text_ids])
        for fid, nbytes, utf8_ok, ends_nl in con.execute(
            "select file_id, bytes, utf8_ok, ends_nl from _ing_blob"
        ).fetchall():
            facts[fid].bytes, facts[fid].utf8_ok, facts[fid].ends_with_newline = nbytes, utf8_ok, ends_nl

    # CSV: header = first record; facts about truncation
    if any(files[i].format == "csv" for i in text_ids):
        stage_csv_records(con)
        for fid, fields in con.execute(
            "select file_id, fields from _ing_csv join _ing_csv_bounds using (file_id) where line = header_line"
        ).fetchall():
            plans[fid] = plan_header(fid, source, list(fields), platform[fid], mappings, positional=True)
        for fid, records, last_fields, last_unterminated in con.execute(
            """
            select file_id, k.records, len(c.fields), c.unterminated
            from _ing_csv c join _ing_csv_bounds k using (file_id) where c.line = k.last_line
            """
        ).fetchall():
            f = facts[fid]
            f.records = records
            f.unterminated_quote = bool(last_unterminated) and records > 0
            if fid in plans and records > 0:
                short = last_fields < len(plans[fid].found)
                f.truncated = f.unterminated_quote or (short and not f.ends_with_newline)

    if any(files[i].format == "jsonl" for i in text_ids):
        keys = stage_jsonl_keys(con)
        for fid, n, last_ok in con.execute(
            """
            select l.file_id, count(*), arg_max(json_valid(l.line), l.line_no)
            from _ing_lines l join _ing_files f using (file_id)
            where f.format = 'jsonl' and l.line <> '' group by all
            """
        ).fetchall():
            facts[fid].records = n
            facts[fid].truncated = not last_ok and not facts[fid].ends_with_newline
        for fid in text_ids:
            if files[fid].format == "jsonl" and facts[fid].records:
                plans[fid] = plan_header(
                    fid, source, keys.get(fid, []), platform[fid], mappings, positional=False
                )

    for fid, f in enumerate(files):
        if f.format == "parquet":
            facts[fid].bytes = f.path.stat().st_size
            try:
                found = parquet_columns(con, str(f.path))
            except duckdb.Error as exc:
                plans[fid] = HeaderPlan(
                    fid,
                    [],
                    {},
                    {},
                    checks=[QualityCheck("unreadable_parquet", str(exc)[:200], "a Parquet file")],
                )
                continue
            plans[fid] = plan_header(fid, source, found, platform[fid], mappings, positional=False)

    for fid in range(len(files)):
        plans.setdefault(fid, HeaderPlan(fid, [], {}, {}, has_header=False))
        if not facts[fid].utf8_ok:
            plans[fid] = HeaderPlan(fid, [], {}, {}, has_header=False)

    # group files by identical header mapping; _ing_text is a view: one SELECT per group, unioned
    selects: list[str] = []
    groups: dict[tuple, list[int]] = defaultdict(list)
    for fid, plan in plans.items():
        if plan.ok and files[fid].format != "parquet":
            groups[(files[fid].format, plan.signature())].append(fid)
    for grp, ((fmt, _sig), fids) in enumerate(groups.items(), start=1):
        con.execute(
            "update _ing_files set grp = ?, date_format = ? where file_id in (select unnest(?::int[]))",
            [grp, plans[fids[0]].date_format, fids],
        )
        if fmt == "csv":
            selects.append(csv_group_sql(contract, plans[fids[0]], grp))
        else:
            selects.append(jsonl_group_sql(contract, plans[fids[0]], grp))
    for fid, f in enumerate(files):
        if f.format == "parquet" and plans[fid].ok:
            selects.append(parquet_file_sql(contract, plans[fid], fid, str(f.path)))
            facts[fid].records = con.execute(
                "select count(*) from read_parquet(?)", [str(f.path)]
            ).fetchone()[0]
    body = "\nunion all\n".join(selects) if selects else empty_text_sql(contract)
    names = ", ".join(
        [
            "file_id",
            "line",
            *(ident(c) for c in contract.names),
            "_extra",
            "raw_record",
            "struct_rule",
            "struct_detail",
        ]
    )
    con.execute(f"create or replace temp view _ing_text ({names}) as {body}")
    return Staged(plans=plans, facts=facts)
