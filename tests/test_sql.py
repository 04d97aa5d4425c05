"""SQL quoting shared by every stage: the token DuckDB and PostgreSQL read back as the same text."""

from __future__ import annotations

import duckdb

from growthops.sql import literal, quote


def test_quote_and_literal_double_the_quote_character():
    assert quote('my "table"') == '"my ""table"""'
    assert literal("it's") == "'it''s'"


def test_duckdb_reads_the_quoted_tokens_back_as_the_same_text():
    name, text = 'odd "name"; drop table x', "O'Brien's; --"
    con = duckdb.connect()
    con.execute(f"create table {quote(name)} (v varchar)")
    con.execute(f"insert into {quote(name)} values ({literal(text)})")
    assert con.execute(f"select v from {quote(name)}").fetchall() == [(text,)]
    assert con.execute("select table_name from information_schema.tables").fetchall() == [(name,)]
