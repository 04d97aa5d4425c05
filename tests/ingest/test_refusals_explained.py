"""Delimiter and encoding refusals say what was detected, not only what is missing."""

from __future__ import annotations

import gzip

import pytest

from growthops.errors import DataQualityError
from growthops.ingest.loader import ingest_day

from .conftest import DAY, orders_csv


def _refusal(settings, landing, content: bytes) -> str:
    landing.put("orders", "orders.csv", content)
    with pytest.raises(DataQualityError) as failure:
        ingest_day(settings, "orders", DAY)
    return failure.value.reports[0].message()


def test_a_semicolon_delimited_file_names_the_delimiter(settings, landing):
    text = orders_csv(3).replace(",", ";")
    message = _refusal(settings, landing, text.encode())
    assert "missing_required_columns" in message
    assert "detected delimiter: semicolon (';')" in message and "comma-separated" in message


def test_a_tab_delimited_file_names_the_delimiter(settings, landing):
    message = _refusal(settings, landing, orders_csv(3).replace(",", "\t").encode())
    assert "detected delimiter: tab" in message


@pytest.mark.parametrize(
    ("content", "detected"),
    [
        (orders_csv(3).replace("C1", "Café").encode("cp1252"), "byte 0xE9 at offset"),
        (gzip.compress(orders_csv(3).encode(), mtime=0), "gzip-compressed"),
        (orders_csv(3).encode("utf-16"), "UTF-16"),
    ],
)
def test_an_encoding_refusal_says_what_was_detected(settings, landing, content, detected):
    message = _refusal(settings, landing, content)
    assert detected in message, message
