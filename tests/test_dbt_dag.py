"""The manifest renderer: which dbt nodes become tasks, in which order, with which tests."""

from growthops.orchestration.dbt_tasks import graph_from_manifest


def _node(uid, rtype, deps=(), package="growthops"):
    return {
        "unique_id": uid,
        "name": uid.split(".")[-1],
        "resource_type": rtype,
        "package_name": package,
        "depends_on": {"nodes": list(deps)},
    }


MANIFEST = {
    "metadata": {"project_name": "growthops"},
    "nodes": {
        n["unique_id"]: n
        for n in [
            _node("seed.growthops.channel_mapping", "seed"),
            _node("model.growthops.stg_orders", "model", ["source.growthops.raw.orders"]),
            _node("model.growthops.stg_contacts", "model", ["source.growthops.raw.contacts"]),
            _node(
                "model.growthops.int_attr",
                "model",
                ["model.growthops.stg_contacts", "seed.growthops.channel_mapping"],
            ),
            _node(
                "model.growthops.fct_orders",
                "model",
                ["model.growthops.stg_orders", "model.growthops.int_attr"],
            ),
            _node("model.growthops.dim_customers", "model", ["model.growthops.int_attr"]),
            _node("test.growthops.unique_fct_orders_order_id", "test", ["model.growthops.fct_orders"]),
            # parents stg_orders and fct_orders: stg_orders is an ancestor -> attaches to fct_orders
            _node(
                "test.growthops.rel_fct_stg",
                "test",
                ["model.growthops.fct_orders", "model.growthops.stg_orders"],
            ),
            # fct_orders and dim_customers are siblings -> runs after both
            _node(
                "test.growthops.rel_fct_dim",
                "test",
                ["model.growthops.fct_orders", "model.growthops.dim_customers"],
            ),
            _node("test.growthops.source_not_null", "test", ["source.growthops.raw.orders"]),
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
