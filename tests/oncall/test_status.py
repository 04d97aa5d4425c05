"""``growthops status``: fresh and quiet -> exit 0; a quarantined file, a stale source or a failed
build -> a table that says so and exit 1."""

from __future__ import annotations

import json

import duckdb
import pytest
from airflow.sdk.exceptions import AirflowFailException
from conftest import BASE_RUN, NEXT_DAY, ORDERS_HEADER, airflow_task, order_line, put

from growthops.commands.cli import main
from growthops.orchestration.ingest_tasks import load


def _table(out: str) -> dict[str, list[str]]:
    """Rows of the status table by source name."""
    rows = {}
    for line in out.splitlines():
        cells = line.split()
        if cells and cells[0] in {"channel", "crm", "orders", "fx"}:
            rows[cells[0]] = cells
    return rows


def _status(capsys, *args: str) -> tuple[int, str]:
    code = main(["status", *args])
    return code, capsys.readouterr().out


def test_fresh_sources_and_a_published_version_exit_0(data, capsys):
    # day 4 of orders arrives with one bad row in 150: loaded, the row goes to raw.rejects
    rows = [order_line(i) for i in range(1, 151)]
    rows[9] = order_line(10, status="on_hold")  # line 11
    put(data, "orders", "orders.csv", "\n".join([ORDERS_HEADER, *rows]) + "\n")
    summary = load("orders", NEXT_DAY, settings=data)
    assert (summary["rows_loaded"], summary["rows_rejected"]) == (149, 1)

    code, out = _status(capsys, "--as-of", "2025-01-04T08:00")

    assert code == 0, out
    table = _table(out)
    # source, last day, expected, freshness, quarantined, rejects, failed loads, last batch
    assert table["orders"][1:7] == ["2025-01-04", "2025-01-03", "ok", "0", "1", "0"]
    for source in ("channel", "crm", "fx"):
        assert table[source][1:7] == ["2025-01-03", "2025-01-03", "ok", "0", "0", "0"]
    assert f"marts: BI reads run {BASE_RUN} published" in out
    assert "1 batch(es) loaded since then are waiting for the next transform" in out
    assert "rebuilds in full" not in out  # the tables hold the definitions of the pre-built manifest
    assert out.rstrip().endswith("all good")

    code, out = _status(capsys, "--as-of", "2025-01-04T08:00", "--json")
    status = json.loads(out)
    assert code == 0 and status["needs_attention"] is False
    orders = next(s for s in status["sources"] if s["source"] == "orders")
    assert (orders["freshness"], orders["rejected_rows"], orders["quarantined_files"]) == ("ok", 1, [])
    assert status["marts"]["published_run_id"] == BASE_RUN and status["marts"]["batches_waiting"] == 1


def test_a_quarantined_file_and_stale_sources_exit_1(data, capsys):
    rows = [order_line(i) for i in range(1, 11)]
    rows[2] = order_line(3, gross="-3.00")  # 10% bad: the file is quarantined
    put(data, "orders", "orders.csv", "\n".join([ORDERS_HEADER, *rows]) + "\n")
    with airflow_task("growthops_ingest_orders", "load_orders"), pytest.raises(AirflowFailException):
        load("orders", NEXT_DAY, settings=data)

    # three days later nothing new has arrived: expected through 2025-01-06
    code, out = _status(capsys, "--as-of", "2025-01-07T08:00")

    assert code == 1, out
    table = _table(out)
    assert table["orders"][1:7] == ["2025-01-03", "2025-01-06", "STALE", "1", "0", "1"]
    assert table["channel"][1:7] == ["2025-01-03", "2025-01-06", "STALE", "0", "0", "0"]
    assert table["fx"][1:4] == ["2025-01-03", "2025-01-06", "STALE"]  # fx is stale after 3 days
    assert (
        "quarantined: orders/2025-01-04/orders.csv (report: quarantine/orders/2025-01-04/orders.csv.report.md)\n"
        "      next: growthops replay orders 2025-01-04 --from-quarantine   # after correcting" in out
    )
    assert "STALE: orders expected through 2025-01-06, last loaded 2025-01-03 (3 day(s) behind)" in out
    assert (
        "FAILED load: runs/growthops_ingest_orders/scheduled__2025-01-04T00_00_00+00_00/load_orders.md" in out
    )
    assert (
        "      reject threshold exceeded: orders 2025-01-04: orders/2025-01-04/orders.csv line 4 failed"
        in out
    )
    assert out.rstrip().endswith("NEEDS ATTENTION")

    # a day earlier the same sources are only late
    code, out = _status(capsys, "--as-of", "2025-01-05T08:00")
    assert code == 1
    assert _table(out)["crm"][1:4] == ["2025-01-03", "2025-01-04", "LATE"]

    code, out = _status(capsys, "--as-of", "2025-01-07T08:00", "--json")
    status = json.loads(out)
    assert code == 1 and status["needs_attention"] is True
    orders = next(s for s in status["sources"] if s["source"] == "orders")
    assert orders["freshness"] == "stale" and orders["days_behind"] == 3
    assert orders["quarantined_files"] == ["orders/2025-01-04/orders.csv"]
    assert orders["failures"] == [
        "runs/growthops_ingest_orders/scheduled__2025-01-04T00_00_00+00_00/load_orders.md"
    ]


def test_a_failed_build_after_the_publication_exits_1(data, capsys):
    from growthops.failures import StageFailure
    from growthops.gate.stage import mart_gate

    con = duckdb.connect(str(data.warehouse_path))
    con.execute("update marts.mart_channel_funnel_daily set spend = spend + 5")
    con.close()
    with airflow_task("growthops_transform", "mart_gate", "manual__1"), pytest.raises(StageFailure):
        mart_gate(data)

    code, out = _status(capsys, "--as-of", "2025-01-04T08:00")

    assert code == 1
    assert "FAILED build after the publication: runs/growthops_transform/manual__1/mart_gate.md" in out
    assert (
        "      mart gate failed: mart gate failed 1 check(s): "
        "spend equals the latest raw channel rows in the reporting currency" in out
    )
    assert all(row[3] == "ok" for row in _table(out).values())
    assert f"marts: BI reads run {BASE_RUN}" in out


def test_status_names_the_models_the_next_build_rebuilds_in_full(data, capsys):
    """fct_orders was built with another channel_mapping than the project's (its record says so):
    status names it and what changed before the build runs (DECISIONLOG 80). Not a problem: exit 0."""
    from growthops.build import definitions

    recorded = definitions.read_record(data)
    assert "fct_orders" in recorded  # the pipeline's build recorded what it built
    recorded["fct_orders"]["seed.growthops.channel_mapping"] = "an older mapping"
    definitions.record_path(data).write_text(json.dumps(recorded), encoding="utf-8")

    code, out = _status(capsys, "--as-of", "2025-01-04T08:00")
    assert code == 0, out
    line = "fct_orders (channel_mapping): their definition changed since the build of their rows"
    assert f"  the next build rebuilds in full {line}" in out.splitlines()
    code, out = _status(capsys, "--as-of", "2025-01-04T08:00", "--json")
    assert json.loads(out)["marts"]["rebuilt_in_full_next"] == line
