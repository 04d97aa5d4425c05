"""The manifest renderer: which dbt nodes become tasks, in which order, with which tests."""

import json

import pytest

from growthops.orchestration.dbt_tasks import graph_from_manifest


def _node(uid, rtype, deps=(), package="growthops"):
    return {
        "unique_id": uid,
        "checksum": {"name": "sha256", "checksum": uid} if rtype != "seed" else "seed-checksum",
        "name": uid.split(".")[-1],
        "resource_type": rtype,
        "package_name": package,
        "depends_on": {"nodes": list(deps)},
    }


G = "growthops"  # the project's resource ids: <type>.growthops.<name>
FCT, STG, ATTR, DIM = (
    f"model.{G}.fct_orders",
    f"model.{G}.stg_orders",
    f"model.{G}.int_attr",
    f"model.{G}.dim_customers",
)

MANIFEST = {
    "metadata": {"project_name": "growthops"},
    "nodes": {
        n["unique_id"]: n
        for n in [
            _node(f"seed.{G}.channel_mapping", "seed"),
            _node(STG, "model", [f"source.{G}.raw.orders"]),
            _node(f"model.{G}.stg_contacts", "model", [f"source.{G}.raw.contacts"]),
            _node(ATTR, "model", [f"model.{G}.stg_contacts", f"seed.{G}.channel_mapping"]),
            _node(FCT, "model", [STG, ATTR]),
            _node(DIM, "model", [ATTR]),
            _node(f"test.{G}.unique_fct_orders_order_id", "test", [FCT]),
            # parents stg_orders and fct_orders: stg_orders is an ancestor -> attaches to fct_orders
            _node(f"test.{G}.rel_fct_stg", "test", [FCT, STG]),
            # fct_orders and dim_customers are siblings -> runs after both
            _node(f"test.{G}.rel_fct_dim", "test", [FCT, DIM]),
            _node(f"test.{G}.source_not_null", "test", [f"source.{G}.raw.orders"]),
            _node("model.other_pkg.foreign", "model", [], package="other_pkg"),
        ]
    },
    "unit_tests": {
        "unit_test.growthops.fct_orders.refund_netting": _node(
            "unit_test.growthops.fct_orders.refund_netting", "unit_test", ["model.growthops.fct_orders"]
        )
    },
}


def test_nodes_in_topological_order_and_only_own_package():
    graph = graph_from_manifest(MANIFEST)
    names = [n.name for n in graph.order()]
    assert "foreign" not in names
    assert len(names) == 6
    assert names.index("stg_contacts") < names.index("int_attr") < names.index("fct_orders")
    assert names.index("channel_mapping") < names.index("int_attr")
    assert names.index("stg_orders") < names.index("fct_orders")


def test_tests_attach_to_the_last_built_parent_or_run_after_all():
    graph = graph_from_manifest(MANIFEST)
    by_name = {n.name: n for n in graph.order()}
    assert sorted(by_name["fct_orders"].tests) == [
        "refund_netting",
        "rel_fct_stg",
        "unique_fct_orders_order_id",
    ]
    assert by_name["dim_customers"].tests == []
    assert graph.cross_tests == ["rel_fct_dim"]
    assert {p.split(".")[-1] for p in graph.cross_parents} == {"fct_orders", "dim_customers"}
    assert graph.source_tests == ["source_not_null"]


def test_parents_exclude_sources():
    graph = graph_from_manifest(MANIFEST)
    by_name = {n.name: n for n in graph.order()}
    assert by_name["stg_orders"].parents == []
    assert set(by_name["int_attr"].parents) == {
        "model.growthops.stg_contacts",
        "seed.growthops.channel_mapping",
    }


# ------------------------------------------------------------------ watcher: one build, per-node tasks


def test_every_test_and_node_has_one_owner_task():
    graph = graph_from_manifest(MANIFEST)
    owners = graph.owners()
    assert owners["model.growthops.fct_orders"] == "fct_orders"
    assert owners["unit_test.growthops.fct_orders.refund_netting"] == "fct_orders"
    assert owners["test.growthops.rel_fct_dim"] == "tests_across_models"
    assert owners["test.growthops.source_not_null"] == "source_tests"
    assert "model.other_pkg.foreign" not in owners


def test_doc_md_carries_description_columns_and_tests():
    manifest = json.loads(json.dumps(MANIFEST))
    node = manifest["nodes"]["model.growthops.fct_orders"]
    node["description"] = "One row per order."
    node["columns"] = {"order_id": {"data_type": "varchar", "description": "Shop order | id."}}
    doc = {n.name: n for n in graph_from_manifest(manifest).order()}["fct_orders"].doc_md()
    assert "One row per order." in doc
    assert "| `order_id` | varchar | Shop order / id. |" in doc
    assert "`unique_fct_orders_order_id`" in doc


def _outcome(uid, status):
    from growthops.build.dbt import NodeOutcome

    return NodeOutcome(
        uid, uid.split(".")[0], uid.split(".")[-1], status, "boom" if status != "success" else "", 0, 0.1
    )


@pytest.fixture
def watch_env(tmp_path, monkeypatch):
    """The task bodies with dbt replaced by a recorder; the manifest above on disk."""
    from growthops.build import dbt as dbt_mod
    from growthops.orchestration import dbt_tasks

    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(MANIFEST), encoding="utf-8")
    monkeypatch.setenv("GROWTHOPS_DATA_DIR", str(tmp_path / "data"))
    calls, statuses = [], {}

    def fake_invoke(settings, command, *, raise_on_failure=True):
        calls.append(command)
        uids = [*MANIFEST["nodes"], *MANIFEST["unit_tests"]]
        outcomes = [_outcome(u, statuses.get(u, "success")) for u in uids if not u.startswith("model.other")]
        return dbt_mod.DbtResult(command, all(not o.failed for o in outcomes), outcomes)

    monkeypatch.setattr(dbt_mod, "invoke", fake_invoke)
    monkeypatch.setattr("growthops.reports.report_dbt_failure", lambda exc, settings=None: tmp_path / "r.md")
    return dbt_tasks, str(path), calls, statuses


def test_producer_runs_one_build_and_tasks_mirror_it_then_rebuild_when_cleared(watch_env):
    from airflow.sdk.exceptions import AirflowFailException

    dbt_tasks, path, calls, statuses = watch_env
    statuses["test.growthops.unique_fct_orders_order_id"] = "fail"
    produced = dbt_tasks.produce(path)
    assert calls == [["build"]]
    assert not produced["success"]
    assert {o["name"] for o in produced["outcomes"]["fct_orders"]} == {
        "fct_orders", "refund_netting", "rel_fct_stg", "unique_fct_orders_order_id",
    }  # fmt: skip
    assert dbt_tasks.watch(path, "stg_orders", produced)["mirrored"] == produced["token"]
    with pytest.raises(AirflowFailException, match="unique_fct_orders_order_id"):
        dbt_tasks.watch(path, "fct_orders", produced)
    assert calls == [["build"]]  # mirroring runs no dbt
    # the model is fixed and its task cleared: it rebuilds its own selection, not the project
    statuses.clear()
    assert dbt_tasks.watch(path, "fct_orders", produced)["rebuilt"] == "fct_orders"
    assert calls[-1][:3] == ["build", "--select", "fct_orders"]
    assert "unique_fct_orders_order_id" in calls[-1]


def test_unit_tests_run_once_per_code_version(watch_env):
    dbt_tasks, path, calls, statuses = watch_env
    assert dbt_tasks.produce(path)["unit_tests"] == "ran"
    assert dbt_tasks.produce(path)["unit_tests"].startswith("skipped")
    assert calls == [["build"], ["build", "--exclude-resource-type", "unit_test"]]
    statuses["test.growthops.rel_fct_dim"] = "fail"  # a failed build runs them again next time
    dbt_tasks.produce(path)
    statuses.clear()
    assert dbt_tasks.produce(path)["unit_tests"] == "ran"
