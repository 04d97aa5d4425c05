"""SQL text helpers of the ingest stage: quoting literals, identifiers and JSON paths."""

from __future__ import annotations


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def json_path(key: str) -> str:
    return '$."' + key.replace('"', '\\"') + '"'
