"""The incremental order chain of the dbt project, for the incremental tests: its models, their
tables and their compiled SQL."""

from __future__ import annotations

from pathlib import Path

import duckdb

# model -> (schema, folder of its compiled SQL)
CHAIN = {
    "int_orders_converted": ("intermediate", "intermediate/finance"),
    "int_orders_attributed": ("intermediate", "intermediate/customers"),
    "fct_orders": ("marts", "marts/core"),
}


def chain_table(warehouse: Path, model: str) -> list[tuple]:
    """Every row of the chain model's table, by order_id."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(f"select * from {CHAIN[model][0]}.{model} order by order_id").fetchall()
    finally:
        con.close()


def compiled_sql(work_dir: Path, model: str) -> str:
    """The SQL dbt last compiled for the chain model under ``work_dir``."""
    path = work_dir / "target" / "compiled" / "growthops" / "models" / CHAIN[model][1] / f"{model}.sql"
    return path.read_text(encoding="utf-8")
