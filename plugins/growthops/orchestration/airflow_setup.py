"""Idempotent local Airflow set-up: the pool that serialises DuckDB writers.

Run by ``make airflow-init`` after ``airflow db migrate``; the docker-compose init service runs
it too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DUCKDB_POOL = "growthops_duckdb"
DUCKDB_POOL_DESCRIPTION = "DuckDB allows one writer: every task that writes the warehouse takes this slot"


def main() -> int:
    local = Path(sys.executable).with_name("airflow")  # the venv's airflow, even when not on PATH
    cmd = [
        str(local) if local.exists() else "airflow",
        "pools",
        "set",
        DUCKDB_POOL,
        "1",
        DUCKDB_POOL_DESCRIPTION,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        return result.returncode
    print(f"pool {DUCKDB_POOL}: 1 slot")
    return 0


if __name__ == "__main__":
    sys.exit(main())
