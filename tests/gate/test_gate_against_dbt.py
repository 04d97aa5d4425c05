"""The gate's SQL reconciliations are independent of the dbt code: on the hand-made raw tables they
must agree with what ``dbt build`` makes of them (slow: a real dbt build per case)."""

from __future__ import annotations

import duckdb
import pytest

from growthops.gate.mart_gate import run_mart_gate

CRM_SQL = """
insert into raw.crm_contacts (contact_id, email, created_at, updated_at, lifecycle_stage, utm_source, utm_medium,
    utm_campaign, country, is_deleted, _batch_id, _batch_day, _source_file, _source_line, _loaded_at) values
    ('k1', 'a@example.com', '2025-01-01 09:00', '2025-01-01 09:00', 'customer', 'google', 'cpc', 'Brand', 'US', false,
     'crm:d1', '2025-01-01', 'crm/2025-01-01/contacts.csv', 2, '2025-01-02 01:00'),
    ('k2', 'b@example.com', '2025-01-01 10:00', '2025-01-01 10:00', 'customer', 'facebook', 'paid_social', 'Promo', 'DE',
     false, 'crm:d1', '2025-01-01', 'crm/2025-01-01/contacts.csv', 3, '2025-01-02 01:00'),
    ('k3', 'c@example.com', '2025-01-02 10:00', '2025-01-02 10:00', 'lead', null, null, null, 'US', false,
     'crm:d1', '2025-01-02', 'crm/2025-01-02/contacts.csv', 2, '2025-01-03 01:00')
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("currency", "timezone", "net_revenue", "spend"),
    [
        ("USD", "UTC", 150.0, 257.5),
        # Tokyo: o2 falls on 2025-01-03 (EUR 1.25); in EUR: o1 70/1.1 + o2 50 + o5 25/1.25
        ("EUR", "Asia/Tokyo", round(70 / 1.1 + 50 + 20, 4), round(155 / 1.1 + 90 / 1.25 + 10, 4)),
    ],
)
def test_dbt_marts_pass_the_gate(tmp_path, monkeypatch, raw_sql, currency, timezone, net_revenue, spend):
    from growthops.build.dbt import invoke
    from growthops.config import load_settings
    from growthops.warehouse import create_raw_tables

    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GROWTHOPS_REPORTING_CURRENCY", currency)
    monkeypatch.setenv("GROWTHOPS_REPORTING_TIMEZONE", timezone)
    settings = load_settings()
    settings.warehouse_dir.mkdir(parents=True)
    con = duckdb.connect(str(settings.warehouse_path))
    create_raw_tables(con)
    con.execute(raw_sql)
    con.execute(CRM_SQL)
    con.close()

    assert invoke(settings, ["build"], raise_on_failure=False).success

    # this process's dbt still holds the file read-write: a second connection needs its configuration
    con = duckdb.connect(str(settings.warehouse_path), config=settings.duckdb_config)
    try:
        result = run_mart_gate(settings, con)
    finally:
        con.close()
    assert result.status == "passed", result.message()
    checks = {c.name: c for c in result.checks}
    assert checks["net revenue equals that of the latest raw orders"].expected == net_revenue
    assert checks["spend equals the latest raw channel rows in the reporting currency"].expected == spend
