"""DST policy (README): naive local times that do not exist (spring forward) or exist twice (fall
back) in the source's declared timezone are counted in the load summary and the ledger, or
rejected when configured."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from growthops.config import load_settings
from growthops.ingest.loader import ingest_day

DAY = date(2025, 11, 3)
HEADER = "contact_id,email,created_at,updated_at,lifecycle_stage,utm_source,utm_medium,utm_campaign,country"
UPDATED = "2025-11-03T10:00:00+00:00"
ROWS = [
    f"C1,a@example.com,2025-03-09 02:30:00,{UPDATED},lead,,,,US",  # does not exist in New York
    f"C2,b@example.com,2025-11-02 01:30:00,{UPDATED},lead,,,,US",  # exists twice in New York
    f"C3,c@example.com,2025-06-01 12:00:00,{UPDATED},lead,,,,US",  # an ordinary summer time
]


@pytest.fixture
def ny(settings, monkeypatch):
    monkeypatch.setenv("GROWTHOPS_SOURCES_CRM_TIMEZONE", "America/New_York")
    monkeypatch.setenv("GROWTHOPS_SOURCES_CRM_REJECT_THRESHOLD", "0.9")
    return load_settings()


def test_dst_times_are_shifted_counted_in_the_ledger_and_the_summary(ny, landing, wh):
    landing.put("crm", "contacts.csv", "\n".join([HEADER, *ROWS]) + "\n", day=DAY)
    result = ingest_day(ny, "crm", DAY)
    [outcome] = result.outcomes
    assert outcome.status == "loaded"
    [warning] = [w for w in outcome.warnings if w.startswith("DST")]
    assert "1 local time(s) that do not exist (policy shift)" in warning
    assert "1 that exist twice (policy later)" in warning and "lines 2, 3" in warning
    assert wh.rows("select dst_nonexistent, dst_ambiguous from raw.load_ledger") == [(1, 1)]
    created = dict(wh.rows("select contact_id, created_at from raw.crm_contacts"))
    assert created["C1"] == datetime(2025, 3, 9, 7, 30)  # 02:30 read with the EST offset = 03:30 EDT
    assert created["C2"] == datetime(2025, 11, 2, 6, 30)  # the later 01:30 (EST, after the clocks go back)
    assert created["C3"] == datetime(2025, 6, 1, 16, 0)


def test_dst_times_are_rejected_when_configured(ny, landing, wh, monkeypatch):
    monkeypatch.setenv("GROWTHOPS_INGEST_NONEXISTENT_LOCAL_TIMES", "reject")
    monkeypatch.setenv("GROWTHOPS_INGEST_AMBIGUOUS_LOCAL_TIMES", "reject")
    settings = load_settings()
    landing.put("crm", "contacts.csv", "\n".join([HEADER, *ROWS]) + "\n", day=DAY)
    [outcome] = ingest_day(settings, "crm", DAY).outcomes
    assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected) == ("loaded_with_rejects", 1, 2)
    assert wh.rows("select line, rule, column_name from raw.rejects order by line") == [
        (2, "nonexistent_local_time", "created_at"),
        (3, "ambiguous_local_time", "created_at"),
    ]


def test_utc_sources_have_no_dst_counts(settings, landing, wh):
    landing.put("crm", "contacts.csv", "\n".join([HEADER, *ROWS]) + "\n", day=DAY)
    ingest_day(settings, "crm", DAY)
    assert wh.rows(
        "select coalesce(dst_nonexistent, 0), coalesce(dst_ambiguous, 0) from raw.load_ledger"
    ) == [(0, 0)]
