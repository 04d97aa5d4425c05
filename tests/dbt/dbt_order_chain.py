"""The incremental models of the dbt project, for the incremental tests: the order chain's models,
their tables and their compiled SQL; every incremental model of a built project's manifest."""

from __future__ import annotations

import json
from dataclasses import dataclass
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


@dataclass(frozen=True)
class IncrementalModel:
    name: str
    schema: str
    unique_key: str | list[str]
    compiled_path: Path  # under the work dir's target/compiled/growthops/

    @property
    def key_columns(self) -> str:
        """The unique key as a column list for ``order by``."""
        return self.unique_key if isinstance(self.unique_key, str) else ", ".join(self.unique_key)


def incremental_models(work_dir: Path) -> list[IncrementalModel]:
    """Every model materialized ``incremental`` in the manifest dbt last wrote under ``work_dir``."""
    manifest = json.loads((work_dir / "target" / "manifest.json").read_text(encoding="utf-8"))
    return sorted(
        (
            IncrementalModel(
                node["name"], node["schema"], node["config"]["unique_key"], Path(node["original_file_path"])
            )
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
        ),
        key=lambda m: m.name,
    )


def model_table(warehouse: Path, model: IncrementalModel) -> list[tuple]:
    """Every row of the model's table, by its unique key."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            f"select * from {model.schema}.{model.name} order by {model.key_columns}"
        ).fetchall()
    finally:
        con.close()


def compiled_incremental_sql(work_dir: Path) -> dict[str, str]:
    """The SQL dbt last compiled under ``work_dir`` for every incremental model."""
    compiled = work_dir / "target" / "compiled" / "growthops"
    return {
        m.name: (compiled / m.compiled_path).read_text(encoding="utf-8") for m in incremental_models(work_dir)
    }
