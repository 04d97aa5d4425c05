"""Schema checks: every mart table and column the gate reads must exist (a missing one is a data
failure, and the checks that need it are not run)."""

from __future__ import annotations

from typing import Any

import duckdb

from growthops.gate.marts import COLUMNS, MARTS_SCHEMA
from growthops.gate.result import CheckResult
from growthops.gate.suite import expectation_columns


def existing_columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    rows = con.execute(
        "select table_name, column_name from duckdb_columns() "
        "where database_name = current_database() and schema_name = ?",
        [MARTS_SCHEMA],
    ).fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def schema_checks(suite: dict[str, Any], existing: dict[str, set[str]]) -> list[CheckResult]:
    """Every table and column the gate reads must exist (a missing one is a data failure)."""
    needed: dict[str, set[str]] = {}
    for exp in suite["expectations"]:
        needed.setdefault(exp["meta"]["table"], set()).update(expectation_columns(exp["kwargs"]))
    for table, keys in suite.get("meta", {}).get("keys", {}).items():
        needed.setdefault(table, set()).update(keys)
    for table, cols in COLUMNS.required().items():
        needed.setdefault(table, set()).update(cols)
    checks = []
    for table in sorted(needed):
        have = existing.get(table)
        if have is None:
            checks.append(
                CheckResult(
                    name="mart table exists",
                    kind="schema",
                    table=table,
                    passed=False,
                    observed="missing",
                    expected=f"{MARTS_SCHEMA}.{table}",
                )
            )
            continue
        missing = sorted(needed[table] - have)
        checks.append(
            CheckResult(
                name="mart columns exist",
                kind="schema",
                table=table,
                passed=not missing,
                observed=f"missing {missing}" if missing else "all present",
                expected=sorted(needed[table]),
            )
        )
    return checks
