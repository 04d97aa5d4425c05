"""Every DuckDB connection the pipeline opens has the configured memory limit and spills under the data root."""

from pathlib import Path

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


def _rendered_duckdb_profile(env: dict[str, str]) -> dict:
    """The profile's duckdb output as dbt renders it (``env_var`` from ``env``)."""
    import jinja2
    import yaml

    profile = yaml.safe_load((Path(__file__).parents[1] / "dbt_project" / "profiles.yml").read_text())
    output = profile["growthops"]["outputs"]["duckdb"]

    def render(value):
        if isinstance(value, dict):
            return {key: render(item) for key, item in value.items()}
        if isinstance(value, str):
            return jinja2.Template(value).render(env_var=lambda name, default=None: env.get(name, default))
        return value

    return render(output)


def test_a_dbt_thread_opened_after_a_spill_keeps_the_temp_directory(tmp_path, monkeypatch):
    """dbt-duckdb opens one cursor per thread and applies the profile's ``settings`` to each with SET;
    DuckDB refuses to SET temp_directory once a query has spilled there ("Cannot switch temporary
    directory after the current one has been used"), which failed a 1M-order backfill's dbt build.
    The profile gives memory_limit and temp_directory at open (config_options) instead: replayed
    here through dbt-duckdb's own connection and cursor set-up, with a real spill in between."""
    from dbt.adapters.duckdb.credentials import DuckDBCredentials
    from dbt.adapters.duckdb.environments import Environment

    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path))
    env = dbt_env(load_settings()) | {"GROWTHOPS_DUCKDB_MEMORY_LIMIT": "200MB"}
    profile = _rendered_duckdb_profile(env)
    assert "temp_directory" not in (profile.get("settings") or {})
    creds = DuckDBCredentials.from_dict(
        {key: profile[key] for key in ("path", "schema", "settings", "config_options") if key in profile}
        | {"database": "w", "path": str(tmp_path / "w.duckdb")}
    )
    Path(env["GROWTHOPS_DUCKDB_TEMP_DIR"]).parent.mkdir(parents=True)  # DuckDB makes the last level
    con = Environment.initialize_db(creds)
    try:
        first = Environment.initialize_cursor(creds, con.cursor())
        first.execute(
            "create table spilled as select i, md5(cast(i as varchar)) as h from range(4000000) as r(i) order by h"
        )
        # DuckDB creates its temp directory when it first spills
        assert Path(env["GROWTHOPS_DUCKDB_TEMP_DIR"]).is_dir(), "the sort did not spill"
        second = Environment.initialize_cursor(creds, con.cursor())
        limit, temp = second.execute(
            "select current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()
    finally:
        con.close()
    assert temp == str(tmp_path / "tmp" / "duckdb")
    assert limit.endswith("MiB") and 180 < float(limit.split()[0]) < 200  # 200 MB = 190.7 MiB
