"""The GX raw gate is real: violated expectations fail, satisfied ones pass, crashes are validator errors."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from growthops.contracts import CONTRACTS
from growthops.errors import ValidatorError
from growthops.ingest import gate, rules
from growthops.ingest.loader import ingest_day

from .conftest import DAY, orders_csv


def frame(**columns):
    return pd.DataFrame(columns)


def test_a_satisfied_expectation_passes():
    run = gate.validate(
        frame(status=["paid", "refunded"]),
        [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "status", "value_set": ["paid", "refunded"]},
            }
        ],
    )
    assert run.status == gate.PASSED
    assert [r.success for r in run.results] == [True]


def test_a_violated_expectation_fails_and_names_the_rows():
    run = gate.validate(
        frame(status=["paid", "lost", "paid", "gone"]),
        [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "status", "value_set": ["paid"]},
                "meta": {"rule": "not_in_enumeration"},
            }
        ],
    )
    assert run.status == gate.DATA_FAILED
    [r] = run.failed
    assert (r.rule, r.unexpected_index, r.column) == ("not_in_enumeration", [1, 3], "status")


def test_a_warning_expectation_never_fails_the_gate():
    run = gate.validate(
        frame(row_count_ratio=[0.01]),
        [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "row_count_ratio", "min_value": 0.2},
                "meta": {"rule": "row_count_vs_recent_average", "severity": "warning"},
            }
        ],
    )
    assert run.status == gate.PASSED and [w.rule for w in run.warnings] == ["row_count_vs_recent_average"]


def test_suite_parameters_come_from_settings():
    exp = [
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "reject_share", "max_value": {"$PARAMETER": "reject_threshold"}},
        }
    ]
    df = frame(reject_share=[0.02])
    assert gate.validate(df, exp, {"reject_threshold": 0.01}).status == gate.DATA_FAILED
    assert gate.validate(df, exp, {"reject_threshold": 0.05}).status == gate.PASSED


def test_an_expectation_gx_cannot_evaluate_is_a_validator_error_not_a_data_failure():
    run = gate.validate(
        frame(status=["paid"]),
        [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "no_such_column", "min_value": 0},
            }
        ],
    )
    assert run.status == gate.VALIDATOR_ERROR
    assert "no_such_column" in run.error


def test_gx_raising_is_a_validator_error(monkeypatch):
    import great_expectations as gx

    def boom(*args, **kwargs):
        raise RuntimeError("GX internals exploded")

    monkeypatch.setattr(gx, "ExpectationSuite", boom)
    run = gate.validate(frame(a=[1]), [{"type": "expect_column_to_exist", "kwargs": {"column": "a"}}])
    assert run.status == gate.VALIDATOR_ERROR and "GX internals exploded" in run.error


def test_a_validator_crash_during_a_load_loads_nothing_and_quarantines_nothing(
    settings, landing, wh, broken_orders_suite, monkeypatch
):
    path = landing.put("orders", "orders.csv", orders_csv(3))
    with pytest.raises(ValidatorError, match=broken_orders_suite):
        ingest_day(settings, "orders", DAY)
    assert path.exists() and not (settings.quarantine_dir / "orders").exists()
    assert wh.count("raw.shop_orders") == 0
    assert wh.rows(
        "select status, message like 'validator error (data not judged)%' from raw.load_ledger"
    ) == [("failed", True)]

    monkeypatch.setattr(gate, "EXPECTATIONS_DIR", gate.REPO_ROOT / "expectations")
    [o] = ingest_day(settings, "orders", DAY).outcomes  # the same file, once the validator works again
    assert (o.status, o.rows_loaded) == ("loaded", 3)
    assert wh.rows("select status from raw.load_ledger") == [("loaded",)]


def test_rows_only_the_gx_suite_flags_are_rejected_too(settings, landing, wh, tmp_path, monkeypatch):
    """The union of SQL rules and GX row expectations decides: nothing GX flags is loaded."""
    suites = tmp_path / "expectations"
    shutil.copytree(gate.EXPECTATIONS_DIR, suites)
    stricter = json.loads((suites / "orders.json").read_text())
    stricter["expectations"].append(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "gross_amount", "max_value": 500},
            "meta": {"level": "row", "rule": "implausible_amount"},
        }
    )
    (suites / "orders.json").write_text(json.dumps(stricter))
    monkeypatch.setattr(gate, "EXPECTATIONS_DIR", suites)
    landing.put(
        "orders",
        "orders.csv",
        orders_csv(200).replace(
            "O9,C1,2025-01-03T10:09:00+00:00,2025-01-03T10:09:00+00:00,paid,USD,100.00",
            "O9,C1,2025-01-03T10:09:00+00:00,2025-01-03T10:09:00+00:00,paid,USD,900.00",
        ),
    )
    [o] = ingest_day(settings, "orders", DAY).outcomes
    assert (o.status, o.rows_rejected) == ("loaded_with_rejects", 1)
    assert wh.rows("select line, rule, column_name, value from raw.rejects") == [
        (10, "implausible_amount", "gross_amount", "900.0")
    ]


@pytest.mark.parametrize("source", sorted(CONTRACTS))
def test_suites_cover_the_contract(source):
    suite = gate.load_suite(source)
    contract = CONTRACTS[source]
    rows = gate.expectations_of(suite, "row")
    files = gate.expectations_of(suite, "file")
    not_null = {e["kwargs"]["column"] for e in rows if e["type"] == "expect_column_values_to_not_be_null"}
    assert not_null == {c.name for c in contract.columns if c.not_null}
    sets = {
        e["kwargs"]["column"]: tuple(e["kwargs"]["value_set"]) for e in rows if e["type"].endswith("_in_set")
    }
    assert sets == contract.enums
    unique = [e for e in rows if e["meta"]["rule"] == "duplicate_key"]
    [u] = unique
    assert tuple(u["kwargs"]["column_list"]) == ("_file_id", *contract.primary_key)  # unique within a file
    [window] = [e for e in rows if e["meta"]["rule"] == "outside_export_window"]
    _, lo, hi = rules.EXPORT_WINDOW[source]
    assert (window["kwargs"]["min_value"], window["kwargs"]["max_value"]) == (lo, hi)
    assert {e["meta"]["rule"] for e in files} >= {
        "non_empty_file",
        "no_data_rows",
        "header_matches_contract",
        "utf8_encoding",
        "file_truncated",
        "reject_threshold",
        "row_count_vs_recent_average",
    }
    assert {r.name for r in rules.value_rules(source)} | {"duplicate_key"} >= {
        e["meta"]["rule"] for e in rows
    }
