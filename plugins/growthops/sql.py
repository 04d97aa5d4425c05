"""SQL text shared by every stage: an identifier or a string as a quoted SQL token.

DuckDB and PostgreSQL quote the same way (standard SQL): identifiers in double quotes, strings in
single quotes, the quote character doubled inside. Use these only where a name or value cannot be a
bound parameter (DDL, ``attach``, identifiers).
"""

from __future__ import annotations


def quote(name: str) -> str:
    '''``name`` as a quoted identifier: ``my "table"`` -> ``"my ""table"""``.'''
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """``text`` as a string literal: ``it's`` -> ``'it''s'``."""
    return "'" + text.replace("'", "''") + "'"
