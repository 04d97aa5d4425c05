"""What a node task of the dbt group costs per run: it reads the producer's XCom, pushes none."""

import json

from growthops.orchestration.dbt_tasks import CROSS_TESTS, PRODUCER, SOURCE_TESTS, render_dbt_tasks


def _node(uid, rtype, deps=()):
    return {
        "unique_id": uid,
        "name": uid.split(".")[-1],
        "resource_type": rtype,
        "package_name": "growthops",
        "depends_on": {"nodes": list(deps)},
    }


STG, FCT, DIM = "model.growthops.stg_orders", "model.growthops.fct_orders", "model.growthops.dim_customers"
MANIFEST = {
    "metadata": {"project_name": "growthops"},
    "nodes": {
        n["unique_id"]: n
        for n in [
            _node(STG, "model", ["source.growthops.raw.orders"]),
            _node(FCT, "model", [STG]),
            _node(DIM, "model", [STG]),
            _node("test.growthops.unique_fct_orders_order_id", "test", [FCT]),
            _node("test.growthops.rel_fct_dim", "test", [FCT, DIM]),
            _node("test.growthops.source_not_null", "test", ["source.growthops.raw.orders"]),
        ]
    },
}


def test_node_tasks_push_no_xcom_and_read_only_the_producer(tmp_path):
    from airflow.sdk import DAG

    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(MANIFEST), encoding="utf-8")
    with DAG("node_task_overhead", schedule=None) as dag:
        render_dbt_tasks(path, pool="default_pool")

    producer = dag.get_task(f"dbt.{PRODUCER}")
    nodes = {t.task_id.removeprefix("dbt."): t for t in dag.tasks if t is not producer}
    assert sorted(nodes) == sorted(["stg_orders", "fct_orders", "dim_customers", SOURCE_TESTS, CROSS_TESTS])
    assert producer.do_xcom_push is True  # the outcomes every node task mirrors
    assert {name: t.do_xcom_push for name, t in nodes.items()} == dict.fromkeys(nodes, False)
    assert {name: t.pool for name, t in nodes.items()} == dict.fromkeys(nodes, "default_pool")
    # each node task's only XCom input is the producer's return value
    for t in nodes.values():
        assert producer.task_id in t.upstream_task_ids
    assert nodes["fct_orders"].upstream_task_ids == {producer.task_id, "dbt.stg_orders"}
    assert nodes[CROSS_TESTS].upstream_task_ids == {producer.task_id, "dbt.fct_orders", "dbt.dim_customers"}
