"""The SELECT that turns each format's records into text rows of ``_ing_text``.

One row per record: the contract columns as trimmed text (``NULL`` when empty), unknown extra
columns as a JSON object, the raw record, the line, and a structural rule (with its detail) when
the record cannot be trusted at all. CSV and JSON Lines files with an identical header share one
SELECT (a *group*); a Parquet file has its own.
"""

from __future__ import annotations

from growthops.contracts import SourceContract
from growthops.ingest.header import HeaderPlan, norm
from growthops.ingest.sql import json_path
from growthops.sql import literal, quote

# One RFC 4180 field: a quoted field (quotes doubled inside) or an unquoted run without quotes.
FIELD_RE = r'("(?:[^"]|"")*"|[^,"]*)'
RECORD_RE = rf"(?:,{FIELD_RE})+"


def empty_text_sql(contract: SourceContract) -> str:
    """A typed, empty relation with the columns of ``_ing_text`` (the view when no file has rows)."""
    cols = ", ".join(f"null::varchar as {quote(c)}" for c in contract.names)
    return (
        f"select null::int as file_id, null::bigint as line, {cols}, null::json as _extra, "
        "null::varchar as raw_record, null::varchar as struct_rule, null::varchar as struct_detail where false"
    )


def _json_object_sql(pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return "null::json"
    return "json_object(" + ", ".join(f"{literal(k)}, {v}" for k, v in pairs) + ")"


def csv_group_sql(contract: SourceContract, plan: HeaderPlan, grp: int) -> str:
    """Text rows of every CSV file of header group ``grp`` (files with an identical header)."""
    cols = []
    for c in contract.names:
        pos = plan.positions.get(c)
        cols.append(f"nullif(trim(r.fields[{pos}]), '')" if pos is not None else "null::varchar")
    extra = _json_object_sql([(name, f"r.fields[{pos}]") for name, pos in plan.extras.items()])
    ncols = len(plan.found)
    header = [norm(h) for h in plan.found]
    header_list = "[" + ", ".join(literal(h) for h in header) + "]::varchar[]"
    first = literal(header[0] if header else "")
    return f"""
        (with r as (
            select r.*, {", ".join(f"{c} as {quote('__c' + str(i))}" for i, c in enumerate(cols))},
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
        select r.file_id, r.line, {", ".join(quote("__c" + str(i)) for i in range(len(cols)))},
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
        [(str(k), f"json_extract(line, {literal(json_path(str(k)))})") for k in plan.extras]
    )
    path_list = "[" + ", ".join(literal(p) for p in paths) + "]::varchar[]"
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


def parquet_file_sql(contract: SourceContract, plan: HeaderPlan, file_id: int, path: str) -> str:
    """Text rows of one Parquet file (line = 1-based row number)."""
    cols = [
        f"nullif(trim(cast(t.{quote(str(plan.positions[c]))} as varchar)), '')"
        if c in plan.positions
        else "null::varchar"
        for c in contract.names
    ]
    extra = _json_object_sql([(str(k), f"to_json(t.{quote(str(k))})") for k in plan.extras])
    return f"""
        (select {file_id}, t.file_row_number + 1, {", ".join(cols)}, {extra},
               to_json(t)::varchar, null::varchar, null::varchar
        from read_parquet({literal(path)}, file_row_number = true) t)
        """
