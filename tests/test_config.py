from pathlib import Path

from growthops.config import REPO_ROOT, load_settings


def test_defaults_resolve_under_the_data_root(tmp_path):
    s = load_settings({"GROWTHOPS_DATA_DIR": str(tmp_path)})
    assert s.data_dir == tmp_path
    assert s.landing_dir == tmp_path / "landing"
    assert s.quarantine_dir == tmp_path / "quarantine"
    assert s.warehouse_path == tmp_path / "warehouse" / "growthops.duckdb"
    assert s.serving_path == tmp_path / "warehouse" / "serving.duckdb"
    assert s.runs_dir == tmp_path / "runs"
    assert s.versions_dir == tmp_path / "warehouse" / "versions"
    assert (s.duckdb_temp_dir, s.landing_staging_dir) == (
        tmp_path / "tmp" / "duckdb",
        tmp_path / "tmp" / "landing",
    )
    assert s.duckdb_config == {
        "memory_limit": s.memory_limit,
        "temp_directory": str(tmp_path / "tmp" / "duckdb"),
    }
    assert s.reporting_currency == "USD"
    assert s.sources["orders"].reject_threshold == 0.01
    assert s.platforms_dir == REPO_ROOT / "config" / "platforms"


def test_every_key_has_an_environment_override(tmp_path):
    s = load_settings(
        {
            "GROWTHOPS_DATA_DIR": str(tmp_path),
            "GROWTHOPS_REPORTING_CURRENCY": "eur",
            "GROWTHOPS_REPORTING_TIMEZONE": "Europe/Berlin",
            "GROWTHOPS_SOURCES_ORDERS_REJECT_THRESHOLD": "0.05",
            "GROWTHOPS_SOURCES_CRM_TIMEZONE": "America/New_York",
            "GROWTHOPS_MARTS_REACTIVATION_DAYS": "30",
            "GROWTHOPS_WAREHOUSE_KEEP_VERSIONS": "5",
            "GROWTHOPS_LANDING_DIR": str(tmp_path / "elsewhere"),
        }
    )
    assert s.reporting_currency == "EUR"
    assert s.reporting_timezone == "Europe/Berlin"
    assert s.sources["orders"].reject_threshold == 0.05
    assert s.sources["channel"].reject_threshold == 0.01
    assert s.sources["crm"].timezone == "America/New_York"
    assert s.reactivation_days == 30
    assert s.keep_versions == 5
    assert s.landing_dir == tmp_path / "elsewhere"


def test_relative_data_dir_is_relative_to_the_repository():
    s = load_settings({"GROWTHOPS_DATA_DIR": "somewhere"})
    assert s.data_dir == REPO_ROOT / "somewhere"


def test_another_config_file(tmp_path):
    text = (
        (REPO_ROOT / "config" / "growthops.toml").read_text().replace('currency = "USD"', 'currency = "GBP"')
    )
    cfg = tmp_path / "growthops.toml"
    cfg.write_text(text)
    s = load_settings({"GROWTHOPS_CONFIG": str(cfg), "GROWTHOPS_DATA_DIR": str(tmp_path)})
    assert s.reporting_currency == "GBP"
    assert s.config_dir == Path(tmp_path)
