"""Typing the staged text and the row-level rules, as one SQL statement per batch.

From ``_ing_text`` (all text) to ``_ing_typed``: every contract column parsed to its contract type
(money ``"1,234.50"`` -> 1234.50; timestamps with an offset converted to UTC, naive ones read in the
source's declared timezone — the connection's ``TimeZone`` is set explicitly, never the machine's),
plus ``sql_rule`` / ``reject_column`` / ``reject_value``: the first rule a row breaks, in this order

1. structural (from the reader): ``unterminated_quote``, ``malformed_quoting``, ``truncated_row``,
   ``field_count``, ``repeated_header``, ``invalid_json``
2. ``unparseable`` — a value that does not parse as its contract type
3. ``missing_value`` — a not-null contract column is empty
4. ``not_in_enumeration`` — status, lifecycle stage, currency outside the contract's set
5. source rules: ``negative_amount``, ``negative_count``, ``clicks_exceed_impressions``,
   ``discount_refund_exceed_gross``, ``updated_before_created``, ``non_positive_rate``,
   ``usd_rate_not_one``, ``invalid_country``, ``platform_mismatch``
6. ``outside_export_window`` — the row's day is not the export's day
7. ``duplicate_key`` — the primary key occurs more than once in the file (in any of the parts of a
   multi-part export): *every* occurrence is
   rejected (neither version can be trusted; both stay visible in ``raw.rejects``)
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from growthops.contracts import CONTRACTS, Column, SourceContract
from growthops.sql import literal, quote

INT_THOUSANDS_RE = r"[+-]?[0-9]{1,3}(,[0-9]{3})+"
MONEY_RE = r"[+-]?[$€£¥]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]+)?"
COUNTRY_RE = r"[A-Z]{2}"

# (column, lowest, highest) allowed offset in days between the row's day and the export's day.
# The row's day of a timestamp is its date in the source's declared timezone.
EXPORT_WINDOW: dict[str, tuple[str, int, int]] = {
    "channel": ("date", -30, 0),  # its day, plus restated earlier days (conversion lookback windows)
    "crm": ("updated_at", 0, 0),  # contacts created or changed that day
    "orders": ("updated_at", 0, 0),  # orders created or changed that day
    "fx": ("date", -6, 0),  # the latest rate on or before the day (allowing a week of carry-over)
    "messages": ("sent_at", 0, 0),  # messages sent (holdout: assigned) that day
    "costs": ("date", -30, 0),  # its day, plus late cost rows of earlier days
}


@dataclass(frozen=True)
class Rule:
    name: str
    column: str | None
    condition: str  # SQL on the typed CTE ``t``; NULL counts as "not broken"
    value: str  # SQL text of the offending value


def _typed_expr(c: Column, contract: SourceContract, date_formats: list[str]) -> str:
    txt = f"t.{quote(c.name)}"
    ctype = c.type.upper()
    if ctype == "DATE":
        formats = date_formats or ["%Y-%m-%d"]
        if len(formats) == 1:
            return f"cast(try_strptime({txt}, {literal(formats[0])}) as date)"
        whens = " ".join(
            f"when {literal(fmt)} then cast(try_strptime({txt}, {literal(fmt)}) as date)" for fmt in formats
        )
        return f"case f.date_format {whens} end"
    if ctype == "TIMESTAMP":  # offset respected, naive read in the session (= declared) timezone; UTC out
        return f"make_timestamp(epoch_us(try_cast({txt} as timestamptz)))"
    if ctype == "BIGINT":
        # plain digits: a cast (no '.', no exponent: try_cast would round '12.5' to 13); '12,345': regex
        return (
            f"case when not contains({txt}, ',') then "
            f"case when not (contains({txt}, '.') or contains(lower({txt}), 'e')) then try_cast({txt} as bigint) end "
            f"when regexp_full_match({txt}, '{INT_THOUSANDS_RE}') then try_cast(replace({txt}, ',', '') as bigint) end"
        )
    if ctype.startswith("DECIMAL"):
        # plain numbers: a cast (no exponent); '1,234.50' / '$1,234.50' (money only): validated by regex
        plain = f"case when not contains(lower({txt}), 'e') then try_cast({txt} as {ctype}) end"
        if c.name not in contract.money_columns:
            return plain
        decorated = " or ".join(f"contains({txt}, '{ch}')" for ch in (",", "$", "€", "£", "¥"))
        return (
            f"case when not ({decorated}) then {plain} "
            f"when regexp_full_match({txt}, '{MONEY_RE}') "
            f"then try_cast(regexp_replace({txt}, '[$€£¥,]', '', 'g') as {ctype}) end"
        )
    if ctype == "BOOLEAN":
        return f"try_cast({txt} as boolean)"
    if c.name == "platform":
        return f"coalesce({txt}, f.export_key)"
    return txt


def _is_typed(c: Column) -> bool:
    return c.type.upper() != "VARCHAR"


def window_offset_sql(source: str, timezone: str) -> str:
    column, _, _ = EXPORT_WINDOW[source]
    ctype = next(c.type for c in CONTRACTS[source].columns if c.name == column).upper()
    if ctype == "TIMESTAMP" and timezone.upper() not in ("UTC", "ETC/UTC"):
        # UTC timestamp -> its date in the session (= declared) timezone
        return f"date_diff('day', day, cast(timezone('UTC', {quote(column)}) as date))"
    return f"date_diff('day', day, cast({quote(column)} as date))"


# DST (README "DST policy"): a timestamp text without an offset, read in the declared timezone
OFFSET_RE = r"([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)$"
DST_POLICIES = {"nonexistent": ("shift", "reject"), "ambiguous": ("later", "reject")}


def _dst_conditions(column: str) -> tuple[str, str]:
    """(non-existent, ambiguous) SQL conditions for a typed timestamp column and its text."""
    txt, ts = quote(f"__txt_{column}"), quote(column)
    local = f"try_cast(trim({txt}) as timestamp)"
    naive = f"({txt} is not null and {ts} is not null and not regexp_matches(trim({txt}), '{OFFSET_RE}'))"

    def back(shift: str = "") -> str:  # the UTC instant (shifted) as a wall time of the session timezone
        return f"cast(timezone('UTC', {ts}{shift}) as timestamp)"

    nonexistent = f"({naive} and {back()} <> {local})"
    ambiguous = (
        f"({naive} and {back()} = {local} and ({back(' - interval 1 hour')} = {local} "
        f"or {back(' + interval 1 hour')} = {local}))"
    )
    return nonexistent, ambiguous


def dst_counts_sql(source: str, timezone: str) -> str:
    """``_dst_nonexistent, _dst_ambiguous``: how many timestamp columns of a row are such times."""
    columns = CONTRACTS[source].timestamp_columns
    if not columns or timezone.upper() in ("UTC", "ETC/UTC", "GMT"):
        return "0 as _dst_nonexistent, 0 as _dst_ambiguous"
    gaps = " + ".join(f"(case when {_dst_conditions(c)[0]} then 1 else 0 end)" for c in columns)
    overlaps = " + ".join(f"(case when {_dst_conditions(c)[1]} then 1 else 0 end)" for c in columns)
    return f"{gaps} as _dst_nonexistent, {overlaps} as _dst_ambiguous"


def dst_rules(source: str, timezone: str, policy: tuple[str, str]) -> list[Rule]:
    """Row rules for DST times when the policy is ``reject`` (``policy`` = (non-existent, ambiguous))."""
    if timezone.upper() in ("UTC", "ETC/UTC", "GMT"):
        return []
    rules = []
    for column in CONTRACTS[source].timestamp_columns:
        nonexistent, ambiguous = _dst_conditions(column)
        txt = quote(f"__txt_{column}")
        if policy[0] == "reject":
            rules.append(Rule("nonexistent_local_time", column, nonexistent, f"{txt} || ' ({timezone})'"))
        if policy[1] == "reject":
            rules.append(Rule("ambiguous_local_time", column, ambiguous, f"{txt} || ' ({timezone})'"))
    return rules


def value_rules(source: str) -> list[Rule]:
    """Rules 2-6 above, in priority order, for ``source``."""
    contract = CONTRACTS[source]
    column, lo, hi = EXPORT_WINDOW[source]
    window = Rule(
        "outside_export_window",
        column,
        f"_window_offset not between {lo} and {hi}",
        f"cast({quote(column)} as varchar) || ' (export day ' || day || ')'",
    )
    return [*_contract_rules(contract), *_business_rules(source, contract), window]


def _contract_rules(contract: SourceContract) -> list[Rule]:
    """What the contract declares: parseable typed values, required values, enumerations."""
    rules: list[Rule] = []
    for c in contract.columns:
        if _is_typed(c):
            txt = quote(f"__txt_{c.name}")
            rules.append(Rule("unparseable", c.name, f"{txt} is not null and {quote(c.name)} is null", txt))
    rules += [
        Rule("missing_value", c.name, f"{quote(c.name)} is null", "''")
        for c in contract.columns
        if c.not_null
    ]
    for col, values in contract.enums.items():
        vals = ", ".join(literal(v) for v in values)
        rules.append(
            Rule("not_in_enumeration", col, f"not list_contains([{vals}], {quote(col)})", quote(col))
        )
    return rules


def _as_text(col: str) -> str:
    return f"cast({quote(col)} as varchar)"


def _business_rules(source: str, contract: SourceContract) -> list[Rule]:
    """The source's own rules across values (SPEC §2): signs, sums, order of times, codes."""
    rules: list[Rule] = []
    if source == "channel":
        rules.append(Rule("platform_mismatch", "platform", "__txt_platform <> export_key", "__txt_platform"))
        rules += [
            Rule("negative_count", col, f"{quote(col)} < 0", _as_text(col))
            for col in ("impressions", "clicks")
        ]
        rules.append(Rule("negative_amount", "spend", "spend < 0", _as_text("spend")))
        rules.append(
            Rule(
                "clicks_exceed_impressions",
                "clicks",
                "clicks > impressions",
                "clicks || ' > ' || impressions",
            )
        )
    if source in ("orders", "messages", "costs"):
        rules += [
            Rule("negative_amount", col, f"{quote(col)} < 0", _as_text(col)) for col in contract.money_columns
        ]
    if source == "orders":
        rules.append(
            Rule(
                "discount_refund_exceed_gross",
                "gross_amount",
                "discount_amount + refund_amount > gross_amount",
                "discount_amount || ' + ' || refund_amount || ' > ' || gross_amount",
            )
        )
    if source in ("orders", "crm"):
        rules.append(
            Rule(
                "updated_before_created",
                "updated_at",
                "updated_at < created_at",
                "cast(updated_at as varchar) || ' < ' || cast(created_at as varchar)",
            )
        )
    if source == "crm":
        rules.append(
            Rule("invalid_country", "country", f"not regexp_full_match(country, '{COUNTRY_RE}')", "country")
        )
    if source == "fx":
        rules.append(Rule("non_positive_rate", "usd_rate", "usd_rate <= 0", _as_text("usd_rate")))
        rules.append(
            Rule("usd_rate_not_one", "usd_rate", "currency = 'USD' and usd_rate <> 1", _as_text("usd_rate"))
        )
    return rules


def build_typed(
    con: duckdb.DuckDBPyConnection,
    source: str,
    timezone: str,
    date_formats: list[str],
    dst_policy: tuple[str, str] = ("shift", "later"),
) -> None:
    """``_ing_typed`` (table): typed contract columns, lineage inputs, the first value rule broken,
    DST counts; ``_ing_checked`` (view): plus duplicate keys -> ``sql_rule``, ``reject_column``,
    ``reject_value``. ``dst_policy``: (non-existent, ambiguous) local times: shift/later or reject."""
    contract = CONTRACTS[source]
    con.execute(f"set TimeZone = {literal(timezone)}")
    typed = [f"{_typed_expr(c, contract, date_formats)} as {quote(c.name)}" for c in contract.columns]
    texts = [f"t.{quote(c.name)} as {quote('__txt_' + c.name)}" for c in contract.columns if _is_typed(c)]
    if source == "channel":
        texts.append("t.platform as __txt_platform")
    rules = value_rules(source)
    rules[-1:-1] = dst_rules(source, timezone, dst_policy)  # before the export-window rule
    # one CASE finds the first broken rule (its 1-based index); names, columns and values are looked
    # up by index, so no condition is evaluated twice
    idx_case = " ".join(f"when {r.condition} then {i}" for i, r in enumerate(rules, start=1))
    names = "[" + ", ".join(literal(r.name) for r in rules) + "]"
    columns = "[" + ", ".join(literal(r.column) if r.column else "null" for r in rules) + "]"
    val_case = " ".join(f"when {i} then cast({r.value} as varchar)" for i, r in enumerate(rules, start=1))
    pk = ", ".join(quote(c) for c in contract.primary_key)
    pk_not_null = " and ".join(f"{quote(c)} is not null" for c in contract.primary_key)
    con.execute(
        f"""
        create or replace temp table _ing_typed as
        with t as (
            select t.file_id, t.line, f.day, f.export_key,
                   {", ".join(typed)},
                   {", ".join(texts)},
                   t._extra, t.raw_record, t.struct_rule, t.struct_detail
            from _ing_text t join _ing_files f using (file_id)
        ),
        w as (
            select *, {window_offset_sql(source, timezone)} as _window_offset, {dst_counts_sql(source, timezone)}
            from t
        ),
        i as (
            select *, case when struct_rule is not null then 0 {idx_case} end as rule_idx
            from w
        ),
        r as (
            select * exclude (rule_idx),
                   case when rule_idx = 0 then struct_rule when rule_idx > 0 then {names}[rule_idx] end as rule0,
                   case when rule_idx > 0 then {columns}[rule_idx] end as col0,
                   case rule_idx when 0 then struct_detail {val_case} end as val0
            from i
        )
        select * from r
        """
    )
    # duplicate keys on a narrow projection (a window over the wide rows costs seconds per million)
    con.execute(
        f"""
        create or replace temp table _ing_dups as
        select f.batch_id, {pk} from _ing_typed join _ing_files f using (file_id)
        where struct_rule is null and {pk_not_null}
        group by all having count(*) > 1
        """
    )
    pk_match = " and ".join(f"d.{quote(c)} = t.{quote(c)}" for c in contract.primary_key)
    pk_text = ", ".join(f"cast(t.{quote(c)} as varchar)" for c in contract.primary_key)
    con.execute(
        f"""
        create or replace temp view _ing_checked as
        select t.* exclude (rule0, col0, val0),
               coalesce(t.rule0, case when d.batch_id is not null then 'duplicate_key' end) as sql_rule,
               case when t.rule0 is not null then t.col0
                    when d.batch_id is not null then {literal(", ".join(contract.primary_key))} end as reject_column,
               case when t.rule0 is not null then t.val0
                    when d.batch_id is not null then concat_ws(', ', {pk_text}) end as reject_value
        from _ing_typed t join _ing_files f on f.file_id = t.file_id
        left join _ing_dups d on d.batch_id = f.batch_id and {pk_match}
        """
    )
