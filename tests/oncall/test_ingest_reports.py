"""Every ingestion failure kind leaves a one-screen report written by the failing task itself."""

from __future__ import annotations

import hashlib
import json

import pytest
from airflow.sdk.exceptions import AirflowFailException
from conftest import NEXT_DAY, ORDERS_HEADER, airflow_task, assert_bi_still_reads, order_line, put, report_of

from growthops.orchestration.ingest_tasks import load

DAG, TASK = "growthops_ingest_orders", "load_orders"
RUN = "scheduled__2025-01-04T00:00:00+00:00"
FILE = "orders/2025-01-04/orders.csv"


def _load_fails(settings) -> tuple[str, dict]:
    with airflow_task(DAG, TASK, RUN, try_number=1, retries=3), pytest.raises(AirflowFailException):
        load("orders", NEXT_DAY, settings=settings)
    return report_of(settings, DAG, RUN, TASK)


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_reject_threshold_exceeded(data):
    rows = [order_line(i) for i in range(1, 21)]
    rows[2] = order_line(3, gross="-100.00")  # line 4 (the header is line 1)
    rows[6] = order_line(7, gross="-7.00")  # line 8
    path = put(data, "orders", "orders.csv", "\n".join([ORDERS_HEADER, *rows]) + "\n")
    sha = _sha(path)

    md, js = _load_fails(data)

    assert js["kind"] == "reject threshold exceeded"
    assert md.splitlines()[0].startswith(f"# FAILED: orders 2025-01-04: {FILE} lines 4, 8")
    assert f"- where: {DAG} / {TASK} / {RUN} (try 1 of 4)" in md
    assert js["source_file"] == FILE and js["sha256"] == sha and f"(sha256 {sha})" in md
    checks = {c["name"]: c for c in js["checks"]}
    assert checks["reject_threshold"]["observed"] == "10.00% of rows rejected"
    assert checks["reject_threshold"]["expected"] == "<= 1.00%"
    assert checks["negative_amount (gross_amount)"]["observed"] == "2 rows"
    assert checks["negative_amount (gross_amount)"]["expected"] == "0 rows"
    assert "| negative_amount (gross_amount) | 2 rows | 0 rows |" in md
    assert [(r["line"], r["rule"], r["column"]) for r in js["sample_rows"]] == [
        (4, "negative_amount", "gross_amount"),
        (8, "negative_amount", "gross_amount"),
    ]
    assert [float(r["value"]) for r in js["sample_rows"]] == [-100.0, -7.0]
    assert js["sample_rows"][0]["raw_record"] == rows[2]
    assert "| 4 | negative_amount | gross_amount |" in md
    quarantined = data.quarantine_dir / "orders" / "2025-01-04" / "orders.csv"
    assert js["quarantined_to"] == str(quarantined) and quarantined.exists() and not path.exists()
    assert _sha(quarantined) == sha
    assert f"- quarantined to: `{quarantined}`" in md
    assert "growthops replay orders 2025-01-04 --from-quarantine" in md
    assert_bi_still_reads(md, js)


def test_contract_mismatch_names_expected_and_found_columns(data):
    header = ORDERS_HEADER.replace("gross_amount", "gross")
    put(data, "orders", "orders.csv", "\n".join([header, order_line(1), order_line(2)]) + "\n")

    md, js = _load_fails(data)

    assert js["kind"] == "contract mismatch"
    assert js["source_file"] == FILE
    text = json.dumps(js["checks"])
    assert "gross_amount" in text and "gross" in text
    assert any("gross_amount" in str(c["expected"]) for c in js["checks"]), js["checks"]
    assert any("gross" in str(c["observed"]) for c in js["checks"]), js["checks"]
    assert (data.quarantine_dir / "orders" / "2025-01-04" / "orders.csv").exists()
    assert "growthops replay orders 2025-01-04 --from-quarantine" in md
    assert_bi_still_reads(md, js)


def test_raw_gate_failed_on_a_truncated_file(data):
    # 150 good rows and a last record cut mid-field: under the 1% reject threshold, yet the file
    # is incomplete - a file-level gate failure
    body = "\n".join([ORDERS_HEADER, *(order_line(i) for i in range(1, 151))])
    put(data, "orders", "orders.csv", body + '\nOC0151,C0151,"2025-01-04T10:31')

    md, js = _load_fails(data)

    assert js["kind"] == "raw gate failed"
    checks = {c["name"]: c for c in js["checks"]}
    assert checks["file_truncated"]["expected"] == "complete records"
    assert "incomplete" in checks["file_truncated"]["observed"]
    assert checks["file_truncated"]["detail"] == f"{FILE} lines 152"
    assert "reject_threshold" not in checks
    assert [(r["line"], r["rule"]) for r in js["sample_rows"]] == [(152, "unterminated_quote")]
    assert "| 152 | unterminated_quote |" in md
    assert js["source_file"] == FILE
    assert "growthops replay orders 2025-01-04 --from-quarantine" in md
    assert_bi_still_reads(md, js)


def test_validator_error_loads_and_quarantines_nothing(data, broken_orders_suite):
    path = put(data, "orders", "orders.csv", "\n".join([ORDERS_HEADER, order_line(1)]) + "\n")

    md, js = _load_fails(data)

    assert js["kind"] == "validator error"
    assert "the raw gate crashed; the data was not judged" in js["summary"]
    assert broken_orders_suite in md
    assert path.exists() and not (data.quarantine_dir / "orders").exists()
    assert js["quarantined_to"] is None
    assert "growthops replay orders 2025-01-04   # after fixing expectations/orders.json" in md
    assert_bi_still_reads(md, js)
