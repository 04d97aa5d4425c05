"""The project parses without a warehouse, documents every mart column, and `dbt docs generate` works."""

from __future__ import annotations

import json

import pytest
from conftest import ORACLE_VARS
from dbt_helpers import explain, run_dbt

MARTS = {
    "fct_orders",
    "dim_customers",
    "mart_channel_funnel_daily",
    "mart_funnel_stages",
    "mart_cohort_retention",
    "mart_reactivation_candidates",
    "mart_customer_activity_monthly",
    "mart_customer_activity_weekly",
    "mart_customer_segments",
    "mart_acquisition_unit_economics",
    "mart_recall_campaigns",
    "mart_recall_campaign_summary",
}
# every metric definition of the issue is pinned by a unit test with hand-computed inputs
METRIC_UNIT_TESTS = {
    "ctr, cpc, cpl, cac, roas": "test_mart_channel_funnel_daily_metrics",
    "first-touch attribution": "test_int_contacts_attributed_first_touch",
    "unknown / guest orders": "test_int_orders_attributed_unknown_guest_and_first_order",
    "fx as-of and cross rate": "test_int_fx_rates_filled_daily_as_of_and_cross_rate",
    "latest-version dedupe (orders)": "test_stg_orders__orders_latest_version_wins",
    "latest-version dedupe (contacts)": "test_stg_crm__contacts_latest_version_and_email_hash",
    "restated channel days": "test_stg_channel__campaign_days_restated_day_newest_file_wins",
    "refund netting": "test_int_orders_converted_refund_netting_and_fx",
    "reporting timezone": "test_int_orders_converted_order_date_in_reporting_timezone",
    "cohort size, retention, cumulative revenue, ltv, zero vs absent periods": (
        "test_mart_cohort_retention_periods_and_ltv"
    ),
    "funnel stage rates": "test_mart_funnel_stages_rates",
    "reactivation threshold": "test_mart_reactivation_candidates_threshold",
    "incremental lookback": "test_fct_orders_incremental_lookback",
    "growth accounting, first and incomplete month": "test_mart_customer_activity_monthly_growth_accounting",
    "iso weeks": "test_mart_customer_activity_weekly_iso_weeks",
    "segment precedence and edges": "test_int_customer_segments_dated_precedence_and_edges",
    "segment moves": "test_mart_customer_segments_moves_and_revenue",
    "rfm ties, gaps": "test_dim_customers_segment_rfm_and_gaps",
    "cac, ltv, payback": "test_mart_acquisition_unit_economics_cac_ltv_payback",
    "unknown vs zero-cost spend": "test_mart_channel_funnel_daily_unknown_vs_zero_cost_spend",
    "stage history": "test_int_contact_stages_changed_from_every_version",
    "restated cost days": "test_stg_costs__costs_restated_day_newest_file_wins",
    "maturity windows, stage velocity": "test_mart_funnel_stages_maturity_and_velocity",
    "latest-version dedupe (messages)": "test_stg_messages__sends_newest_batch_wins",
    "recall arms, crossovers, lapsed at sent_at": "test_int_recall_contacts_assigned_arms_crossover_lapsed",
    "recall window edges, holdout orders, each campaign on its own, maturity": (
        "test_int_recall_contacts_reactivated_window_edges"
    ),
    "recall attribution (each order once)": "test_int_recall_orders_attributed_latest_message_once",
    "recall lift, 95 % bounds, significance, sample size, null rules": (
        "test_mart_recall_campaign_summary_lift_bounds_and_nulls"
    ),
    "recall send weeks: outcomes null until mature": "test_mart_recall_campaigns_week_outcomes_null_until_mature",
    "last recall message (dim_customers, candidates)": "test_dim_customers_last_recall_message",
}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("parse")
    warehouse = work / "no-such-dir" / "growthops.duckdb"
    run = run_dbt(warehouse, ["parse"], work_dir=work)
    assert run.success, explain(run)
    assert not warehouse.parent.exists(), "dbt parse must not need or create a warehouse"
    return json.loads((work / "target" / "manifest.json").read_text(encoding="utf-8"))


def _models(manifest: dict) -> dict[str, dict]:
    return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def test_the_channel_vocabulary_is_declared_once(manifest):
    """Every channel test of the models and seeds reads var `channels` (dbt_project.yml); the costs
    export's contract holds the same list (its suite equals the contract: tests/ingest/test_gate.py).
    A message's channel (email, sms, push, in_app) is another vocabulary."""
    import yaml

    from growthops.build.dbt import DBT_PROJECT_DIR
    from growthops.contracts import CHANNELS

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    assert tuple(project["vars"]["channels"]) == CHANNELS
    channel_tests = [
        n["test_metadata"]["kwargs"]["values"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "test"
        and (n.get("test_metadata") or {}).get("name") == "accepted_values"
        and "channel" in n["test_metadata"]["kwargs"]["column_name"]
        and n["attached_node"] != "model.growthops.stg_messages__sends"
    ]
    assert len(channel_tests) == 10
    assert all("var('channels')" in values for values in channel_tests), channel_tests


def test_every_model_description_starts_with_its_grain(manifest):
    models = _models(manifest)
    assert set(models) >= MARTS
    for name, node in models.items():
        assert node["description"].startswith("One row per"), name
        for column, spec in node["columns"].items():
            assert spec["description"].strip(), f"{name}.{column} has no description"


def test_staging_models_are_views_but_the_latest_version_of_large_exports(manifest):
    """DECISIONLOG 25, 47, 49, 61: a latest-version window over every version ever loaded is
    computed once (an incremental table) instead of once per reader and test; every other staging
    model is a view."""
    staging = {n: m for n, m in _models(manifest).items() if n.startswith("stg_")}
    materialized = {name: node["config"]["materialized"] for name, node in staging.items()}
    assert {n: m for n, m in materialized.items() if m != "view"} == {
        "stg_orders__orders": "incremental",
        "stg_crm__contacts": "incremental",
        "stg_messages__sends": "incremental",
    }
    assert materialized["stg_crm__contact_versions"] == "view"  # an erasure clears raw; the view follows


def test_every_mart_has_an_enforced_contract_and_is_a_table_in_schema_marts(manifest):
    models = _models(manifest)
    for name in MARTS:
        node = models[name]
        assert node["config"]["contract"]["enforced"] is True, name
        assert node["schema"] == "marts", name
        assert node["config"]["materialized"] in {"table", "incremental"}, name
        assert all(spec["data_type"] for spec in node["columns"].values()), name
    assert models["fct_orders"]["config"]["materialized"] == "incremental"
    assert models["fct_orders"]["config"]["unique_key"] == "order_id"


def test_every_key_is_tested_unique_and_not_null(manifest):
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    tested = {
        (t["test_metadata"]["name"], t["attached_node"].split(".")[-1], t["column_name"])
        for t in tests
        if t.get("test_metadata") and t.get("attached_node")
    }
    for model, key in [
        ("fct_orders", "order_id"),
        ("dim_customers", "customer_id"),
        ("mart_reactivation_candidates", "customer_id"),
        ("mart_recall_campaign_summary", "campaign_id"),
        ("stg_messages__sends", "message_id"),
        ("stg_orders__orders", "order_id"),
        ("stg_crm__contacts", "contact_id"),
    ]:
        assert ("unique", model, key) in tested and ("not_null", model, key) in tested, (model, key)


def test_every_metric_definition_has_a_unit_test(manifest):
    names = {u["name"] for u in manifest["unit_tests"].values()}
    missing = {metric: test for metric, test in METRIC_UNIT_TESTS.items() if test not in names}
    assert not missing


def test_every_unit_test_name_fits_a_postgresql_identifier(manifest):
    # dbt creates a relation named after the unit test: PostgreSQL refuses names over 63 bytes
    long = [u["name"] for u in manifest["unit_tests"].values() if len(u["name"].encode()) > 63]
    assert not long


def test_sources_carry_freshness_and_pii_metadata(manifest):
    sources = {s["name"]: s for s in manifest["sources"].values()}
    assert set(sources) >= {
        "channel_performance",
        "crm_contacts",
        "shop_orders",
        "fx_rates",
        "messages_sends",
        "costs_daily",
    }
    for name, source in sources.items():
        assert source["schema"] == "raw"
        assert source["loaded_at_field"] == "_loaded_at", name
        assert source["freshness"]["warn_after"]["count"], name
        assert source["loader"], name
    email = sources["crm_contacts"]["columns"]["email"]
    assert email["config"]["meta"]["contains_pii"] is True


def test_docs_generate_catalogues_every_mart(built_warehouse, dbt_work_dir):
    # in the build's work dir: its partial parse is valid for this warehouse and vars
    catalog_path = dbt_work_dir / "target" / "catalog.json"
    catalog_path.unlink(missing_ok=True)
    run = run_dbt(built_warehouse["path"], ["docs", "generate"], work_dir=dbt_work_dir, vars=ORACLE_VARS)
    assert run.success, explain(run)
    catalog = json.loads(catalog_path.read_text(encoding="utf-8"))
    tables = {
        n["metadata"]["name"]: n for n in catalog["nodes"].values() if n["metadata"]["schema"] == "marts"
    }
    assert set(tables) >= MARTS
    assert "net_revenue" in tables["fct_orders"]["columns"]
