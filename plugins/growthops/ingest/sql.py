"""SQL text of the ingest stage: a JSON key as a DuckDB JSON path (quoting of identifiers and
literals is :mod:`growthops.sql`)."""

from __future__ import annotations


def json_path(key: str) -> str:
    return '$."' + key.replace('"', '\\"') + '"'
