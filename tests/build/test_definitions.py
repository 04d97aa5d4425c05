"""Which incremental models a build rebuilds in full because their definition changed
(``growthops.build.definitions``, DECISIONLOG 80), on the project's own pre-built manifest."""

from __future__ import annotations

import copy
import json
import os

import pytest

from growthops.build import definitions
from growthops.build.dbt import MANIFEST_PATH
from growthops.config import load_settings

VARS = {"reporting_currency": "USD", "reporting_timezone": "UTC", "reactivation_days": 60}
INCREMENTAL = {
    "stg_crm__contacts",
    "stg_orders__orders",
    "stg_messages__sends",
    "int_orders_converted",
    "int_orders_attributed",
    "int_messages_converted",
    "int_customer_segments_dated",
    "fct_orders",
}
# the incremental models downstream of the channel_mapping seed (through int_contacts_attributed)
ATTRIBUTED = {"int_orders_attributed", "fct_orders", "int_messages_converted", "int_customer_segments_dated"}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))


def test_every_incremental_model_has_a_definition_of_its_upstream_models_seeds_and_macros(manifest):
    defs = definitions.definitions(manifest, VARS)
    assert set(defs) == INCREMENTAL
    fct = defs["fct_orders"]
    for part in (
        "model.growthops.fct_orders",
        "model.growthops.int_orders_attributed",
        "model.growthops.int_contacts_attributed",
        "model.growthops.stg_orders__orders",
        "seed.growthops.channel_mapping",
        "macro.growthops.contact_batch_left",  # called in an argument: not in dbt's depends_on
        "config",
        "vars",
    ):
        assert part in fct, part
    assert not any(p.startswith("source.") for p in fct)
    # staging reads a source only: no model or seed upstream of it
    assert [p for p in defs["stg_orders__orders"] if p.startswith(("model.", "seed."))] == [
        "model.growthops.stg_orders__orders"
    ]


def test_an_edited_channel_mapping_changes_the_attributed_models_only(manifest):
    before = definitions.definitions(manifest, VARS)
    edited = copy.deepcopy(manifest)
    edited["nodes"]["seed.growthops.channel_mapping"]["checksum"]["checksum"] = "0" * 64
    changed = definitions.changed_models(definitions.definitions(edited, VARS), before)
    assert set(changed) == ATTRIBUTED
    assert all(parts == ["seed.growthops.channel_mapping"] for parts in changed.values())


def test_a_models_own_sql_or_config_changes_it_and_the_models_below_it(manifest):
    before = definitions.definitions(manifest, VARS)
    edited = copy.deepcopy(manifest)
    edited["nodes"]["model.growthops.int_orders_converted"]["checksum"]["checksum"] = "0" * 64
    assert set(definitions.changed_models(definitions.definitions(edited, VARS), before)) == {
        "int_orders_converted",
        "int_orders_attributed",
        "fct_orders",
        "int_customer_segments_dated",
    }
    edited = copy.deepcopy(manifest)
    edited["nodes"]["model.growthops.fct_orders"]["config"]["unique_key"] = "customer_id"
    assert definitions.changed_models(definitions.definitions(edited, VARS), before) == {
        "fct_orders": ["config"]
    }


def test_a_macro_or_a_var_changes_every_incremental_model(manifest):
    before = definitions.definitions(manifest, VARS)
    edited = copy.deepcopy(manifest)
    edited["macros"]["macro.growthops.money_divide"]["macro_sql"] += " "
    changed = definitions.changed_models(definitions.definitions(edited, VARS), before)
    assert set(changed) == INCREMENTAL
    assert changed["stg_orders__orders"] == ["macro.growthops.money_divide"]
    # dbt's own macros change with dbt, not with the project
    edited = copy.deepcopy(manifest)
    edited["macros"]["macro.dbt.is_incremental"]["macro_sql"] += " "
    assert definitions.changed_models(definitions.definitions(edited, VARS), before) == {}
    changed = definitions.changed_models(
        definitions.definitions(manifest, {**VARS, "reactivation_days": 90}), before
    )
    assert set(changed) == INCREMENTAL
    assert changed["fct_orders"] == ["vars"]


def test_without_a_record_every_incremental_model_is_rebuilt(manifest, tmp_path):
    settings = load_settings(env={"GROWTHOPS_DATA_DIR": str(tmp_path)})
    plan = definitions.plan(settings, manifest, VARS)
    assert set(plan.changed) == INCREMENTAL
    assert plan.changed["fct_orders"] == [definitions.NOT_RECORDED]
    assert plan.env().split(",") == sorted(INCREMENTAL)
    assert plan.summary().startswith("every incremental model: no record")


def test_the_record_holds_the_models_a_build_built_and_keeps_the_others(manifest, tmp_path):
    settings = load_settings(env={"GROWTHOPS_DATA_DIR": str(tmp_path)})
    old = definitions.plan(settings, manifest, VARS)
    definitions.record(settings, old, INCREMENTAL)
    assert definitions.plan(settings, manifest, VARS).changed == {}

    edited = copy.deepcopy(manifest)
    edited["nodes"]["seed.growthops.channel_mapping"]["checksum"]["checksum"] = "0" * 64
    new = definitions.plan(settings, edited, VARS)
    assert set(new.changed) == ATTRIBUTED
    assert new.summary() == "; ".join(f"{m} (channel_mapping)" for m in sorted(ATTRIBUTED)) + (
        ": their definition changed since the build of their rows"
    )
    # fct_orders failed (or was skipped): it keeps its old definition, so the next build rebuilds it
    definitions.record(settings, new, ATTRIBUTED - {"fct_orders"})
    assert set(definitions.plan(settings, edited, VARS).changed) == {"fct_orders"}
    assert set(definitions.plan(settings, manifest, VARS).changed) == ATTRIBUTED - {"fct_orders"}


def test_the_model_names_reach_dbt_for_one_build_only(monkeypatch, manifest, tmp_path):
    settings = load_settings(env={"GROWTHOPS_DATA_DIR": str(tmp_path)})
    monkeypatch.delenv(definitions.ENV_VAR, raising=False)
    plan = definitions.plan(settings, manifest, VARS)
    with definitions.rebuilding(plan):
        assert os.environ[definitions.ENV_VAR] == plan.env()
    assert definitions.ENV_VAR not in os.environ
    monkeypatch.setenv(definitions.ENV_VAR, "stg_orders__orders")
    with pytest.raises(RuntimeError), definitions.rebuilding(plan):
        raise RuntimeError("the build failed")
    assert os.environ[definitions.ENV_VAR] == "stg_orders__orders"
