"""Every DuckDB connection the pipeline opens has the configured memory limit and spills under the data root."""

from growthops.build.dbt import dbt_env
from growthops.config import load_settings
from growthops.warehouse import connect


def test_connections_get_memory_limit_and_temp_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GROWTHOPS_WAREHOUSE_MEMORY_LIMIT", "1GB")
    con = connect(tmp_path / "warehouse" / "w.duckdb")
    try:
        limit, temp = con.execute(
            "select current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()
    finally:
        con.close()
    assert limit.endswith("MiB") and 900 < float(limit.split()[0]) < 1000  # 1 GB = 953.6 MiB
    assert temp == str(tmp_path / "tmp" / "duckdb")


def test_the_dbt_profile_gets_the_same_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path))
    env = dbt_env(load_settings())
    assert env["GROWTHOPS_DUCKDB_MEMORY_LIMIT"] == "4GB"
    assert env["GROWTHOPS_DUCKDB_TEMP_DIR"] == str(tmp_path / "tmp" / "duckdb")
