"""What the mart gate tests share: a one-expectation suite, and the gate's checks by name."""

from __future__ import annotations

from growthops.gate.result import CheckResult, GateResult

# A one-expectation suite: reconciliation tests need no full GX run.
TINY_SUITE = {
    "name": "tiny",
    "meta": {"keys": {"fct_orders": ["order_id"]}},
    "expectations": [
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "order_id"},
            "meta": {"table": "fct_orders"},
        }
    ],
}


def check_named(result: GateResult, name: str) -> CheckResult:
    matches = [c for c in result.checks if c.name == name]
    assert len(matches) == 1, [c.name for c in result.checks]
    return matches[0]


SPEND = "spend equals the latest raw channel rows in the reporting currency"
NET_REVENUE = "net revenue equals that of the latest raw orders"
FUNNEL_REVENUE = "attributed revenue equals net revenue of the latest raw orders"
KEYS = "every raw order key is exactly once in fct_orders"
FX = "every currency has a rate on or before the day"
