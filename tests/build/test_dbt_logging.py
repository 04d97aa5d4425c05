"""growthops.build.dbt with dbt's own loggers off: failures, warnings and errors still show.

dbt's stdout log is off for every growthops command (``--log-level none``) and the project's
flags turn the file log off (``log_level_file: none``); dbt's warnings and errors reach the
growthops log through ``forward_dbt_event``. A small project with the real project's flags pins
that a failing test still fails the build and names its node, that a model's warning is logged,
and that dbt writes neither stdout nor ``dbt.log``.
"""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest
import yaml

from growthops.build import dbt as dbt_mod

MODEL = """{{ exceptions.warn("orders_small has only three rows") }}
select * from (values (1, 'a'), (2, null), (3, 'c')) as t(order_id, status)
"""
SCHEMA = """version: 2
models:
  - name: orders_small
    columns:
      - name: order_id
        data_tests: [not_null, unique]
      - name: status
        data_tests: [not_null]
"""


def _event(level: str, text: str, name: str = "SomeEvent") -> SimpleNamespace:
    return SimpleNamespace(info=SimpleNamespace(level=level, msg=text, name=name))


def test_only_warnings_errors_and_prints_are_forwarded_and_secrets_scrubbed(caplog, monkeypatch):
    monkeypatch.setenv("DBT_ENV_SECRET_TOKEN", "hunter2")
    caplog.set_level(logging.DEBUG, logger="growthops")
    for level in ("debug", "info", "warn", "error"):
        dbt_mod.forward_dbt_event(_event(level, f"{level} event, token hunter2"))
    dbt_mod.forward_dbt_event(_event("info", "printed", name="PrintEvent"))
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "dbt: warn event, token *****"),
        (logging.ERROR, "dbt: error event, token *****"),
        (logging.INFO, "dbt: printed"),
    ]


@pytest.fixture
def small_project(tmp_path, monkeypatch):
    """A one-model dbt project with the growthops project's flags, and settings for it."""
    from growthops.build.stage import release_dbt_duckdb
    from growthops.config import load_settings

    real = yaml.safe_load((dbt_mod.DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        yaml.safe_dump({"name": "small", "version": "1.0.0", "profile": "small", "flags": real["flags"]}),
        encoding="utf-8",
    )
    (project / "profiles.yml").write_text(
        "small:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n"
        "      path: \"{{ env_var('GROWTHOPS_WAREHOUSE_PATH') }}\"\n      threads: 2\n",
        encoding="utf-8",
    )
    (project / "models" / "orders_small.sql").write_text(MODEL, encoding="utf-8")
    (project / "models" / "schema.yml").write_text(SCHEMA, encoding="utf-8")
    monkeypatch.setattr(dbt_mod, "DBT_PROJECT_DIR", project)
    settings = load_settings(env={"GROWTHOPS_DATA_DIR": str(tmp_path / "data")})
    for name in dbt_mod.dbt_env(settings):  # invoke sets them; restored after the test
        monkeypatch.setenv(name, "")
    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    yield settings
    release_dbt_duckdb()


def test_a_failing_test_fails_the_build_and_names_its_node_without_dbt_logs(small_project, caplog, capfd):
    caplog.set_level(logging.INFO, logger="growthops")
    with pytest.raises(dbt_mod.DbtFailure) as raised:
        dbt_mod.invoke(small_project, ["build"])
    result = raised.value.result
    assert raised.value.kind == "dbt test failure"
    assert not result.success
    statuses = {o.name: (o.status, o.failures) for o in result.outcomes}
    assert statuses == {
        "orders_small": ("success", None),
        "not_null_orders_small_order_id": ("pass", 0),
        "unique_orders_small_order_id": ("pass", 0),
        "not_null_orders_small_status": ("fail", 1),
    }
    assert [o.name for o in result.failures] == ["not_null_orders_small_status"]
    logged = [r.getMessage() for r in caplog.records]
    assert "dbt: orders_small has only three rows" in logged
    assert any(line.startswith("FAIL   test      not_null_orders_small_status") for line in logged)
    # dbt's errors as under --quiet (the failing test's result and summary), now in the growthops log
    assert "dbt: Failure in test not_null_orders_small_status (models/schema.yml)" in logged
    out, err = capfd.readouterr()
    # only growthops loggers write (in whatever format an earlier CLI test configured): no dbt lines
    assert [line for line in (out + err).splitlines() if "growthops." not in line] == []
    assert not list((small_project.data_dir / "dbt" / "logs").glob("dbt.log*"))
    # the failure report reads the build's artifacts (the parse before it writes none)
    target = small_project.data_dir / "dbt" / "target"
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert {n["name"] for n in manifest["nodes"].values()} >= {"orders_small", "not_null_orders_small_status"}
    run_results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    assert sorted(r["status"] for r in run_results["results"]) == ["fail", "pass", "pass", "success"]


def test_the_file_log_comes_back_with_the_environment_variable(small_project, monkeypatch):
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    result = dbt_mod.invoke(small_project, ["run"])
    assert [(o.name, o.status) for o in result.outcomes] == [("orders_small", "success")]
    text = (small_project.data_dir / "dbt" / "logs" / "dbt.log").read_text(encoding="utf-8")
    assert "orders_small" in text
